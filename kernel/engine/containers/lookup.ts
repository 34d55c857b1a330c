// Containers as they are on disk: a record per bundle, the shim's state
// beside it, and the state docker shows derived from both. Lookup by name,
// full ID or unique ID prefix.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError, NotFoundError } from '../errors';
import { readJson } from '../store/files';
import { StorePaths } from '../store/paths';
import { lookupName } from './names';
import { Container, ContainerRecord, ContainerState, ShimState } from './types';

const NEVER = '0001-01-01T00:00:00Z';

function isShimAlive(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'berth-shim';
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function stateOf(shim: ShimState | undefined): ContainerState {
  const s: ContainerState = {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: NEVER, FinishedAt: NEVER,
  };
  if (!shim) return s;
  s.ExitCode = shim.ExitCode;
  s.Error = shim.Error;
  s.OOMKilled = shim.OOMKilled;
  s.StartedAt = shim.StartedAt || NEVER;
  s.FinishedAt = shim.FinishedAt || NEVER;
  if (shim.Status === 'running') {
    if (isShimAlive(shim.ShimPid)) {
      s.Status = 'running';
      s.Running = true;
      s.Pid = shim.Pid;
    } else {
      // The supervisor is gone (host reboot, kill -9): docker reports 255.
      s.Status = 'exited';
      s.ExitCode = 255;
      s.Error = 'the container supervisor (berth-shim) is gone';
    }
  } else if (shim.Status === 'exited') {
    s.Status = 'exited';
  }
  return s;
}

export class ContainerLookup {
  constructor(readonly paths: StorePaths) {}

  bundle(id: string): string {
    return path.join(this.paths.containers, id);
  }

  load(id: string): Container | undefined {
    const bundle = this.bundle(id);
    const record = readJson<ContainerRecord>(path.join(bundle, 'config.json'));
    if (!record) return undefined;
    const shim = readJson<ShimState>(path.join(bundle, 'state.json'));
    return { record, shim, state: stateOf(shim), bundle };
  }

  listIds(): string[] {
    try {
      return fs.readdirSync(this.paths.containers).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch {
      return [];
    }
  }

  list(all: boolean): Container[] {
    const out: Container[] = [];
    for (const id of this.listIds()) {
      const c = this.load(id);
      if (c && (all || c.state.Running)) out.push(c);
    }
    return out.sort((a, b) => b.record.Created.localeCompare(a.record.Created));
  }

  // A name, a full ID or a unique ID prefix, as docker accepts.
  get(ref: string): Container {
    const name = ref.replace(/^\//, '');
    const byName = lookupName(this.paths.names, name);
    const candidates = byName ? [byName] : this.listIds().filter((id) => id.startsWith(ref));
    if (candidates.length > 1) throw new BerthError(`multiple containers match the ID prefix "${ref}"; give more characters`);
    const c = candidates.length === 1 ? this.load(candidates[0]) : undefined;
    if (!c) throw new NotFoundError(`No such container: ${ref}; list containers with \`berth ps -a\``);
    return c;
  }

  // Resolves once the container is no longer running (false on timeout).
  async waitStopped(id: string, timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      const c = this.load(id);
      if (!c || !c.state.Running) return true;
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 50);
    }
  }

  // The containers, running or not, whose mounts name a volume.
  usersOfVolume(name: string): string[] {
    return this.list(true).filter((c) => (c.record.Mounts ?? []).some((m) => m.Type === 'volume' && m.Name === name)).map((c) => c.record.Id.slice(0, 12));
  }
}
