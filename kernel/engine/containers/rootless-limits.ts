// A rootless container's limits exist only where the kernel lets the user
// enforce them: in a cgroup v2 subtree delegated to the user, and only for
// the controllers delegated there. Anything else is refused before the
// container is made, saying what an administrator changes; a run with no
// limits is never refused.
import * as fs from 'fs';
import { BerthError } from '../errors';
import { StorePaths } from '../store/paths';
import { delegatedControllers } from '../store/rootless';
import { HostConfig } from './types';

// The limits asked for, as the user wrote them, with the controller each needs.
function wanted(h: HostConfig): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (h.Memory) out.push(['--memory', 'memory']);
  if (h.MemorySwap) out.push(['--memory-swap', 'memory']);
  if (h.MemoryReservation) out.push(['--memory-reservation', 'memory']);
  if (h.NanoCpus) out.push(['--cpus', 'cpu']);
  if (h.CpuShares) out.push(['--cpu-shares', 'cpu']);
  if (h.PidsLimit > 0) out.push(['--pids-limit', 'pids']);
  if (h.CpusetCpus) out.push(['--cpuset-cpus', 'cpuset']);
  if (h.BlkioWeight) out.push(['--blkio-weight', 'io']);
  for (const [field, flag] of [['BlkioDeviceReadBps', '--device-read-bps'], ['BlkioDeviceWriteBps', '--device-write-bps'], ['BlkioDeviceReadIOps', '--device-read-iops'], ['BlkioDeviceWriteIOps', '--device-write-iops']] as const) {
    if (h[field].length) out.push([flag, 'io']);
  }
  return out;
}

export function refuseUndelegatedLimits(paths: StorePaths, h: HostConfig): void {
  if (!paths.rootless) return;
  const asked = wanted(h);
  if (!asked.length) return;
  const flags = asked.map(([f]) => f).join(', ');
  if (!paths.cgroupParent) {
    const v1 = !fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
    throw new BerthError(
      v1
        ? `${flags} cannot be applied rootless on this host: it uses cgroup v1, which never hands cgroups to users. Run without ${flags}, run Berth as root, or use a host with cgroup v2 (systemd.unified_cgroup_hierarchy=1)`
        : `${flags} cannot be applied: no cgroup is delegated to you here. An administrator enables it with Delegate=yes (or Delegate=memory pids cpu) in user@.service (systemctl edit user@.service), and Jupyter must run inside it (for example under systemd-run --user --scope); or run without ${flags}`,
      'unavailable',
    );
  }
  const have = delegatedControllers(paths.cgroupParent);
  const missing = asked.filter(([, c]) => !have.includes(c));
  if (missing.length) {
    const ctrls = [...new Set(missing.map(([, c]) => c))].join(' ');
    throw new BerthError(`${missing.map(([f]) => f).join(', ')} cannot be applied: the ${ctrls} controller is not delegated to you (your cgroup offers: ${have.join(' ') || 'none'}). An administrator adds it with Delegate=${ctrls} in user@.service (systemctl edit user@.service); or run without it`, 'unavailable');
  }
}
