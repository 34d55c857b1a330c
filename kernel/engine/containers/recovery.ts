// Containers a killed process left half made or half removed, found and
// put right at the next start (with the store's files, store/recovery.ts):
// - a bundle with no config.json whose maker is gone (a killed create);
// - a name that leads to no container (a killed create or rm);
// - a container still frozen by a commit that was killed;
// - the RUN container of a build that was killed;
// - a network address held for a container that is gone.
import * as fs from 'fs';
import * as path from 'path';
import { native } from '../native';
import { ownerAlive } from '../store/leases';
import { StorePaths } from '../store/paths';
import { BUILD_OWNER_LABEL, Finding } from '../store/recovery';
import { removeDir } from '../store/trash';
import { COMMITTING } from './commit-marker';
import type { ContainerRecord } from './types';

// Written first into a new bundle: PID-START of the process making it.
export const CREATOR = 'creator';

const HEX = /^[a-f0-9]{64}$/;

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function record(paths: StorePaths, id: string): ContainerRecord | undefined {
  const text = readText(path.join(paths.containers, id, 'config.json'));
  try {
    return text ? (JSON.parse(text) as ContainerRecord) : undefined;
  } catch {
    return undefined;
  }
}

// A bundle with no record, that nobody alive is still making.
function abandoned(paths: StorePaths, id: string): boolean {
  if (record(paths, id)) return false;
  const maker = readText(path.join(paths.containers, id, CREATOR));
  return maker === undefined || !ownerAlive(maker.trim());
}

export interface ContainerLeftovers {
  findings: Finding[];
  bundles: string[]; // ids
  names: string[]; // link paths
  frozen: string[]; // ids
  builds: string[]; // ids of RUN containers of dead builds
  addresses: string[]; // address files
}

export function containerLeftovers(paths: StorePaths): ContainerLeftovers {
  const out: ContainerLeftovers = { findings: [], bundles: [], names: [], frozen: [], builds: [], addresses: [] };
  const ids = list(paths.containers).filter((n) => HEX.test(n));
  const live = new Set<string>();
  for (const id of ids) {
    const rec = record(paths, id);
    if (rec) {
      live.add(id);
      const committing = readText(path.join(paths.containers, id, COMMITTING));
      if (committing !== undefined && !ownerAlive(committing.trim())) {
        out.frozen.push(id);
        out.findings.push({ what: `container ${rec.Name} left frozen by a commit that did not finish` });
      }
      const builder = rec.Config.Labels?.[BUILD_OWNER_LABEL];
      if (builder && !ownerAlive(builder)) {
        out.builds.push(id);
        out.findings.push({ what: `the RUN container ${id.slice(0, 12)} of a build that did not finish` });
      }
    } else if (abandoned(paths, id)) {
      out.bundles.push(id);
      out.findings.push({ what: `a container that was never made whole (${id.slice(0, 12)})`, path: path.join(paths.containers, id) });
    } else {
      live.add(id); // still being made
    }
  }
  for (const name of list(paths.names)) {
    const link = path.join(paths.names, name);
    let target: string;
    try {
      target = fs.readlinkSync(link);
    } catch {
      continue;
    }
    if (live.has(target) && !out.bundles.includes(target)) continue;
    if (fs.existsSync(path.join(paths.containers, target)) && !abandoned(paths, target)) continue;
    out.names.push(link);
    out.findings.push({ what: `the name "${name}" held for no container`, path: link });
  }
  const nets = path.join(paths.root, 'networks');
  for (const netId of list(nets)) {
    const ips = path.join(nets, netId, 'ips');
    for (const ip of list(ips)) {
      const holder = (readText(path.join(ips, ip)) ?? '').trim();
      if (holder && live.has(holder)) continue;
      out.addresses.push(path.join(ips, ip));
      out.findings.push({ what: `the address ${ip} held for a container that is gone`, path: path.join(ips, ip) });
    }
  }
  return out;
}

// Puts right what containerLeftovers found, at once; the RUN containers of
// dead builds are whole containers, removed by the container service
// (processes, mounts, cgroup and all), which done waits for.
export function recoverContainers(paths: StorePaths, remove: (id: string) => Promise<unknown>): { findings: Finding[]; done: Promise<void> } {
  const found = containerLeftovers(paths);
  for (const id of found.frozen) {
    if (paths.cgroupParent) native().cgroupFreeze(paths.cgroupParent, id, false);
    fs.rmSync(path.join(paths.containers, id, COMMITTING), { force: true });
  }
  const done = (async () => {
    for (const id of found.builds) await remove(id).catch(() => undefined);
  })();
  for (const id of found.bundles) {
    if (paths.cgroupParent) native().cgroupRemove(paths.cgroupParent, id);
    removeDir(paths, path.join(paths.containers, id));
  }
  for (const link of found.names) fs.rmSync(link, { force: true });
  for (const file of found.addresses) fs.rmSync(file, { force: true });
  return { findings: found.findings, done };
}
