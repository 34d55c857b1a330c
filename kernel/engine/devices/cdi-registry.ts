// The CDI specs on this host, read fresh for each container (specs are
// small, and a spec the toolkit just regenerated must be seen): every
// *.json, *.yaml and *.yml in the spec directories, later directories
// overriding earlier ones (/etc/cdi, then /var/run/cdi, as CDI orders them).
// A broken spec spoils only its own devices; asking for one of them gives
// that spec's error.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError, NotFoundError } from '../errors';
import { CdiDevice, CdiSpec, loadSpec } from './cdi-spec';
import { parseQualifiedName } from './cdi-names';

export interface ResolvedCdiDevice {
  qualified: string;
  spec: CdiSpec;
  device: CdiDevice;
}

export class CdiRegistry {
  private devices = new Map<string, { entry: ResolvedCdiDevice; priority: number; conflict?: string }>();
  private broken: Array<{ file: string; error: BerthError; kind?: string }> = [];

  constructor(readonly dirs: string[]) {
    dirs.forEach((dir, priority) => {
      let names: string[];
      try {
        names = fs.readdirSync(dir).filter((n) => /\.(json|ya?ml)$/.test(n)).sort();
      } catch {
        return; // a missing directory holds no specs
      }
      for (const n of names) {
        const file = path.join(dir, n);
        try {
          this.add(loadSpec(file), priority);
        } catch (e) {
          if (!(e instanceof BerthError)) throw e;
          // The kind, if the file says it plainly, ties the error to the devices asked for.
          let kind: string | undefined;
          try {
            kind = /(?:^|[\s{,])"?kind"?\s*:\s*"?([^"\s,}]+)/m.exec(fs.readFileSync(file, 'utf8'))?.[1];
          } catch {
            /* unreadable: no kind */
          }
          this.broken.push({ file, error: e, kind });
        }
      }
    });
  }

  private add(spec: CdiSpec, priority: number): void {
    for (const device of spec.devices) {
      const qualified = `${spec.kind}=${device.name}`;
      const had = this.devices.get(qualified);
      if (had && had.priority === priority) {
        had.conflict = `${qualified} is defined both in ${had.entry.spec.file} and in ${spec.file}; remove one of them`;
        continue;
      }
      if (had && had.priority > priority) continue;
      this.devices.set(qualified, { entry: { qualified, spec, device }, priority });
    }
  }

  // Device names of a kind, in the order the specs list them.
  namesOfKind(kind: string): string[] {
    return [...this.devices.values()].filter((d) => d.entry.spec.kind === kind).map((d) => d.entry.device.name);
  }


  hasKind(kind: string): boolean {
    return this.namesOfKind(kind).length > 0;
  }

  // VENDOR/CLASS=NAME, or VENDOR/CLASS=all for every device of the kind.
  resolve(name: string): ResolvedCdiDevice[] {
    const q = parseQualifiedName(name);
    const brokenHere = this.broken.filter((b) => b.kind === q.kind || b.kind === undefined);
    // "all" is every device of the kind, unless the spec names one so
    // (NVIDIA's does, holding every GPU's edits at once).
    if (q.name === 'all' && !this.devices.has(`${q.kind}=all`)) {
      const all = [...this.devices.values()].filter((d) => d.entry.spec.kind === q.kind);
      if (all.length) return all.map((d) => this.usable(d.entry.qualified));
    }
    if (!this.devices.has(`${q.kind}=${q.name}`)) {
      if (brokenHere.length) throw brokenHere[0].error;
      const known = this.namesOfKind(q.kind);
      throw new NotFoundError(known.length
        ? `unresolvable CDI device ${name}: kind ${q.kind} has ${known.filter((n) => n !== 'all').map((n) => `${q.kind}=${n}`).join(', ')}, and ${q.kind}=all`
        : `unresolvable CDI device ${name}: no CDI spec for ${q.kind} in ${this.dirs.join(', ')}; install the vendor's spec there (NVIDIA's: nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml)`);
    }
    return [this.usable(`${q.kind}=${q.name}`)];
  }

  private usable(qualified: string): ResolvedCdiDevice {
    const d = this.devices.get(qualified)!;
    if (d.conflict) throw new BerthError(`conflicting CDI specs: ${d.conflict}`, 'conflict');
    return d.entry;
  }
}
