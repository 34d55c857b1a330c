// Where Berth keeps things. One root for state on disk, one for run state,
// and one cgroup parent, each overridable so tests and benchmarks can use
// a store of their own.
import * as path from 'path';
import { selfId } from './leases';
import { delegatedCgroupParent, isRootless, rootlessStoreRoot } from './rootless';

export interface StorePaths {
  root: string; // BERTH_ROOT, default /var/lib/berth (rootless: ~/.local/share/berth)
  run: string; // BERTH_RUN, default /run/berth (rootless: set by the launcher)
  // BERTH_CGROUP_PARENT, default "berth"; rootless: the user's delegated
  // cgroup v2 subtree, or '' when there is none (containers get no cgroup).
  cgroupParent: string;
  rootless: boolean;
  images: string; // OCI image layout
  snapshots: string; // unpacked layers, one directory per chain ID
  initLayer: string; // the top lower layer holding mount points every container needs
  containers: string;
  names: string; // NAME -> container ID symlinks (atomic, unique)
  // This process's own work area (tmp/PID-START, see store/leases.ts):
  // what is made there moves into the store by rename, or is thrown away.
  tmp: string;
  tmpRoot: string; // every process's tmp directory
  trash: string; // what is being deleted: renamed here first, then removed
  partials: string; // layers cut off mid-download, kept for the next pull to resume
  // CDI spec directories, lowest priority first: where Berth writes a
  // generated NVIDIA spec (run/cdi), then /etc/cdi and /var/run/cdi, or
  // BERTH_CDI_SPEC_DIRS (colon-separated) in their place.
  cdiDirs: string[];
}

export function storePaths(env: NodeJS.ProcessEnv = process.env): StorePaths {
  const rootless = isRootless(env);
  const root = path.resolve(env.BERTH_ROOT || (rootless ? rootlessStoreRoot(env) : '/var/lib/berth'));
  const run = path.resolve(env.BERTH_RUN || (rootless ? path.join(root, 'run') : '/run/berth'));
  return {
    root,
    run,
    cdiDirs: [path.join(run, 'cdi'), ...(env.BERTH_CDI_SPEC_DIRS ? env.BERTH_CDI_SPEC_DIRS.split(':').filter(Boolean) : ['/etc/cdi', '/var/run/cdi'])],
    cgroupParent: env.BERTH_CGROUP_PARENT || (rootless ? delegatedCgroupParent() : 'berth'),
    rootless,
    images: path.join(root, 'images'),
    snapshots: path.join(root, 'snapshots'),
    initLayer: path.join(root, 'snapshots', 'init'),
    containers: path.join(root, 'containers'),
    names: path.join(root, 'names'),
    tmp: path.join(root, 'tmp', selfId()),
    tmpRoot: path.join(root, 'tmp'),
    trash: path.join(root, 'trash'),
    partials: path.join(root, 'partials'),
  };
}
