// The background jobs a context's runs became, one JSON file each with
// their output beside them, in the user's config directory. On a real
// cluster that directory must be one the nodes share (home usually is),
// as it must be for sbatch's own slurm-%j.out in the submitting directory.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError, NotFoundError } from '../errors';
import { writeFileAtomic } from '../store/files';
import { checkName } from '../names';
import { configDir } from '../store/config-dir';
import { JobRecord } from './types';

export class JobStore {
  readonly dir: string;

  constructor(readonly context: string, env: NodeJS.ProcessEnv = process.env) {
    this.dir = path.join(configDir(env), 'jobs', context);
  }

  // Paths for a new job's output, made before the scheduler knows it, and
  // made 0600 first, so that Slurm keeps that mode when it writes them.
  files(handle: string): { out: string; err: string; exit: string } {
    const base = path.join(this.ownDir(), checkName('container', handle));
    const files = { out: `${base}.out`, err: `${base}.err`, exit: `${base}.exit` };
    for (const f of [files.out, files.err]) fs.closeSync(fs.openSync(f, 'a', 0o600));
    return files;
  }

  // The job's environment (-e, --env-file), for the node's Berth to read
  // with --env-file: a 0600 file in this 0700 directory, which the nodes
  // share. Never on a command line, where any local user reads it in /proc,
  // nor in the job script, which Slurm keeps.
  envFile(handle: string, env: string[]): string | undefined {
    if (!env.length) return undefined;
    const bad = env.find((e) => /[\n\0]/.test(e));
    if (bad) throw new BerthError(`the value of ${bad.slice(0, bad.indexOf('='))} holds a newline, which cannot travel to a cluster node: pass it in a file the job reads`);
    const file = path.join(this.ownDir(), `${checkName('container', handle)}.env`);
    writeFileAtomic(file, env.join('\n') + '\n', 0o600);
    return file;
  }

  save(rec: JobRecord): void {
    writeFileAtomic(path.join(this.ownDir(), `${checkName('container', rec.Handle)}.json`), JSON.stringify(rec, null, 2) + '\n', 0o600);
  }

  // The context's jobs directory, 0700 (made so, or closed if it was not).
  private ownDir(): string {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (fs.statSync(this.dir).mode & 0o077) fs.chmodSync(this.dir, 0o700);
    return this.dir;
  }

  list(): JobRecord[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const all: JobRecord[] = [];
    for (const n of names) {
      try {
        all.push(JSON.parse(fs.readFileSync(path.join(this.dir, n), 'utf8')) as JobRecord);
      } catch {
        /* a file half written by another kernel: skip it this time */
      }
    }
    return all.sort((a, b) => b.Created.localeCompare(a.Created));
  }

  // By handle, by job ID, or by a handle's unique prefix (as container IDs are found).
  get(ref: string): JobRecord {
    const all = this.list();
    const exact = all.find((j) => j.Handle === ref || j.JobId === ref);
    if (exact) return exact;
    const some = all.filter((j) => j.Handle.startsWith(ref));
    if (some.length === 1) return some[0];
    if (some.length > 1) throw new BerthError(`multiple jobs match "${ref}" on context ${this.context}: give more of the name`, 'conflict');
    throw new NotFoundError(`No such container: ${ref} (no job of that name or ID on context ${this.context}; ps -a lists them)`);
  }

  remove(rec: JobRecord): void {
    for (const f of [rec.Out, rec.Err, rec.ExitFile, path.join(this.dir, `${rec.Handle}.env`), path.join(this.dir, `${rec.Handle}.json`)]) fs.rmSync(f, { force: true });
  }
}
