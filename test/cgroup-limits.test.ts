// Limits and figures through the CLI, as a user sees them, on whichever
// cgroup hierarchy this machine has: v1 here, pure v2 in the guest that
// `npm run test:v2` boots (scripts/v2-guest). Each check reads the control
// file the kernel enforces, from the host's side and from inside the
// container, where /sys/fs/cgroup shows the container's own cgroup.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { TestStore, testStore } from './helpers';

let s: TestStore;
const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
const swapAccounted = v2 ? true : fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');

before(async () => {
  s = await testStore('cgroup-limits');
});
after(async () => {
  await s.cleanup();
});

// The container's cgroup directory for a controller file, from the host.
function cgroupFile(id: string, file: string, v1Controller: string): string {
  const parent = String(s.env.BERTH_CGROUP_PARENT);
  return v2 ? path.join('/sys/fs/cgroup', parent, id, file) : path.join('/sys/fs/cgroup', v1Controller, parent, id, file);
}

function detached(args: string[]): string {
  const r = s.berth(['run', '-d', '--network', 'none', ...args, 'busybox', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

// A file system on a loop device of the test's own, for the I/O limits.
function loopDevice(): { dev: string; dir: string; done(): void } {
  const file = path.join(s.root, 'disk.img');
  fs.writeFileSync(file, '');
  fs.truncateSync(file, 64 << 20);
  const dev = spawnSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).stdout.trim();
  assert.match(dev, /^\/dev\/loop\d+$/, 'losetup gave no loop device');
  const dir = path.join(s.root, 'disk');
  fs.mkdirSync(dir);
  assert.equal(spawnSync('mkfs.ext4', ['-q', '-F', dev]).status, 0);
  assert.equal(spawnSync('mount', [dev, dir]).status, 0);
  return {
    dev,
    dir,
    done() {
      spawnSync('umount', [dir]);
      spawnSync('losetup', ['-d', dev]);
    },
  };
}

// busybox time's "real 0m 2.00s": the seconds.
function realSeconds(out: string): number {
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(out);
  assert.ok(m, out);
  return Number(m![1]) * 60 + Number(m![2]);
}

describe(`cgroup ${v2 ? 'v2' : 'v1'} limits through the CLI`, () => {
  it('--device-write-bps and --device-read-bps hold direct I/O on a block device to the rate asked for', () => {
    const disk = loopDevice();
    try {
      const dd = (flags: string[], cmd: string) => {
        const r = s.berth(['run', '--rm', '--network', 'none', '-v', `${disk.dir}:/data`, ...flags, 'busybox', 'sh', '-c', cmd], { timeoutMs: 120000 });
        assert.equal(r.code, 0, r.stderr);
        return realSeconds(r.stderr);
      };
      const write = 'time dd if=/dev/zero of=/data/f bs=64k count=32 oflag=direct';
      const read = 'time dd if=/data/f of=/dev/null bs=64k iflag=direct';
      const free = dd([], write);
      const limited = dd(['--device-write-bps', `${disk.dev}:1mb`], write);
      assert.ok(limited >= 1.5 && limited > 3 * free, `2 MiB at 1 MiB/s took ${limited} s (${free} s unlimited)`);
      const readLimited = dd(['--device-read-bps', `${disk.dev}:1mb`], read);
      assert.ok(readLimited >= 1.5, `2 MiB read at 1 MiB/s took ${readLimited} s`);
      const iops = s.berth(['run', '-d', '--network', 'none', '--device-write-iops', `${disk.dev}:100`, 'busybox', 'sleep', '60']).stdout.trim();
      const devNo = spawnSync('stat', ['-c', '%t:%T', disk.dev], { encoding: 'utf8' }).stdout.trim().split(':').map((h) => parseInt(h, 16)).join(':');
      const limits = v2 ? fs.readFileSync(cgroupFile(iops, 'io.max', 'blkio'), 'utf8') : fs.readFileSync(cgroupFile(iops, 'blkio.throttle.write_iops_device', 'blkio'), 'utf8');
      assert.match(limits, v2 ? new RegExp(`^${devNo} .*wiops=100`, 'm') : new RegExp(`^${devNo} 100$`, 'm'));
      s.berth(['rm', '-f', iops]);
    } finally {
      disk.done();
    }
  });

  it('refuses bad limits clearly and leaves nothing behind; a weight is applied or refused saying why', () => {
    const before = s.berth(['ps', '-a', '-q', '--no-trunc']).stdout;
    const r = s.berth(['run', '--rm', '--network', 'none', '--device-read-bps', '/dev/null:1mb', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /\/dev\/null is not a block device/);
    const fmt = s.berth(['run', '--rm', '--device-write-iops', 'sda:10', 'busybox', 'true']);
    assert.equal(fmt.code, 125);
    assert.match(fmt.stderr, /invalid argument "sda:10" for "--device-write-iops" flag: bad format/);
    const missing = s.berth(['update', '-m', '64m', 'no-such-container']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such container: no-such-container/);
    assert.equal(s.berth(['ps', '-a', '-q', '--no-trunc']).stdout, before, 'a refused run left a container');
    const w = s.berth(['run', '-d', '--network', 'none', '--blkio-weight', '300', 'busybox', 'sleep', '60']);
    if (w.code === 0) {
      const id = w.stdout.trim();
      const file = v2 ? cgroupFile(id, 'io.weight', 'blkio') : [cgroupFile(id, 'blkio.weight', 'blkio'), cgroupFile(id, 'blkio.bfq.weight', 'blkio')].find((f) => fs.existsSync(f))!;
      assert.match(fs.readFileSync(file, 'utf8'), v2 ? /^default 2930$/m : /^300$/m);
      s.berth(['rm', '-f', id]);
    } else {
      assert.equal(w.code, 125);
      assert.match(w.stderr, /offers no (I\/O )?weight.*--blkio-weight cannot be applied/);
    }
  });

  it('-m kills a container over its memory with 137, and inspect says OOMKilled', () => {
    const r = s.berth(['run', '--name', 'oom', '--network', 'none', '-m', '32m', 'busybox', 'sh', '-c', 'head -c 200m /dev/zero | tail']);
    assert.equal(r.code, 137, r.stderr);
    assert.equal(s.berth(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'oom']).stdout.trim(), 'true 137');
    s.berth(['rm', 'oom']);
  });

  it('-m and --memory-swap reach the kernel, and the container reads its own limit in /sys/fs/cgroup', () => {
    const args = ['-m', '64m', ...(swapAccounted ? ['--memory-swap', '96m'] : [])];
    const id = detached(args);
    if (v2) {
      assert.equal(fs.readFileSync(cgroupFile(id, 'memory.max', 'memory'), 'utf8').trim(), String(64 << 20));
      assert.equal(fs.readFileSync(cgroupFile(id, 'memory.swap.max', 'memory'), 'utf8').trim(), String(32 << 20));
      assert.equal(s.berth(['exec', id, 'cat', '/sys/fs/cgroup/memory.max']).stdout.trim(), String(64 << 20));
    } else {
      assert.equal(fs.readFileSync(cgroupFile(id, 'memory.limit_in_bytes', 'memory'), 'utf8').trim(), String(64 << 20));
      assert.equal(s.berth(['exec', id, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']).stdout.trim(), String(64 << 20));
    }
    s.berth(['rm', '-f', id]);
  });

  it('--cpus and --cpu-shares become cpu.max and cpu.weight (v2) or CFS quota and shares (v1)', () => {
    const id = detached(['--cpus', '0.5', '--cpu-shares', '512']);
    if (v2) {
      assert.equal(fs.readFileSync(cgroupFile(id, 'cpu.max', 'cpu'), 'utf8').trim(), '50000 100000');
      // docker's (and runc's) conversion: 1 + (shares - 2) * 9999 / 262142
      assert.equal(fs.readFileSync(cgroupFile(id, 'cpu.weight', 'cpu'), 'utf8').trim(), '20');
      assert.equal(s.berth(['exec', id, 'cat', '/sys/fs/cgroup/cpu.max']).stdout.trim(), '50000 100000');
    } else {
      assert.equal(fs.readFileSync(cgroupFile(id, 'cpu.cfs_quota_us', 'cpu'), 'utf8').trim(), '50000');
      assert.equal(fs.readFileSync(cgroupFile(id, 'cpu.shares', 'cpu'), 'utf8').trim(), '512');
    }
    s.berth(['rm', '-f', id]);
  });

  it('--cpus 0.5 holds a busy loop to about half a CPU of time, and the run record has its CPU time and peak memory', () => {
    const file = path.join(s.root, 'cpu.jsonl');
    const r = s.berth(['run', '--rm', '--network', 'none', '--cpus', '0.5', '--record', file, 'busybox', 'sh', '-c', 'end=$(($(date +%s) + 3)); while [ $(date +%s) -lt $end ]; do :; done'], { timeoutMs: 120000 });
    assert.equal(r.code, 0, r.stderr);
    const rec = JSON.parse(fs.readFileSync(file, 'utf8').trim().split('\n').pop()!) as { cpuSeconds: number | null; wallSeconds: number; peakMemory: number | null };
    assert.notEqual(rec.cpuSeconds, null, 'the record measures CPU time');
    assert.ok(rec.cpuSeconds! <= rec.wallSeconds * 0.65, `cpu ${rec.cpuSeconds} s over wall ${rec.wallSeconds} s`);
    assert.ok(rec.cpuSeconds! >= rec.wallSeconds * 0.2, `cpu ${rec.cpuSeconds} s over wall ${rec.wallSeconds} s`);
    // memory.peak (v2, Linux 5.19 on) or memory.max_usage_in_bytes (v1) gives the peak.
    assert.ok((rec.peakMemory ?? 0) > 0, `peak memory ${rec.peakMemory}`);
  });

  it('--pids-limit stops a fork beyond the limit, and stats reads usage, limit and pids', () => {
    const id = detached(['--pids-limit', '12', '-m', '48m']);
    const pidsMax = fs.readFileSync(cgroupFile(id, 'pids.max', 'pids'), 'utf8').trim();
    assert.equal(pidsMax, '12');
    const fork = s.berth(['exec', id, 'sh', '-c', 'for i in $(seq 30); do sleep 5 & done; wait']);
    assert.match(fork.stderr, /can't fork|Resource temporarily unavailable|Cannot allocate/);
    const stats = s.berth(['stats', '--no-stream', id]).stdout;
    assert.match(stats, /\d+(\.\d+)?(KiB|MiB|B) \/ 48MiB\s+\d+\.\d+%/);
    assert.match(stats, /\s\d+\s*$/m);
    s.berth(['rm', '-f', id]);
  });

  it('--memory-reservation and --cpuset-cpus reach the kernel, and the container sees one CPU', () => {
    const id = detached(['-m', '64m', '--memory-reservation', '32m', '--cpuset-cpus', '0']);
    if (v2) assert.equal(fs.readFileSync(cgroupFile(id, 'memory.low', 'memory'), 'utf8').trim(), String(32 << 20));
    else assert.equal(fs.readFileSync(cgroupFile(id, 'memory.soft_limit_in_bytes', 'memory'), 'utf8').trim(), String(32 << 20));
    assert.equal(fs.readFileSync(cgroupFile(id, 'cpuset.cpus', 'cpuset'), 'utf8').trim(), '0');
    assert.equal(s.berth(['exec', id, 'nproc']).stdout.trim(), '1');
    s.berth(['rm', '-f', id]);
  });

  it('update changes -m, --cpus, --pids-limit and --cpuset-cpus of a running container, and inspect shows them', () => {
    const id = detached(['-m', '64m']);
    const r = s.berth(['update', '-m', '96m', '--cpus', '0.25', '--pids-limit', '30', '--cpuset-cpus', '0', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), id);
    if (v2) {
      assert.equal(fs.readFileSync(cgroupFile(id, 'memory.max', 'memory'), 'utf8').trim(), String(96 << 20));
      assert.equal(fs.readFileSync(cgroupFile(id, 'cpu.max', 'cpu'), 'utf8').trim(), '25000 100000');
    } else {
      assert.equal(fs.readFileSync(cgroupFile(id, 'memory.limit_in_bytes', 'memory'), 'utf8').trim(), String(96 << 20));
      assert.equal(fs.readFileSync(cgroupFile(id, 'cpu.cfs_quota_us', 'cpu'), 'utf8').trim(), '25000');
    }
    assert.equal(fs.readFileSync(cgroupFile(id, 'pids.max', 'pids'), 'utf8').trim(), '30');
    assert.equal(s.berth(['exec', id, 'nproc']).stdout.trim(), '1');
    assert.equal(s.berth(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpusetCpus}}', id]).stdout.trim(), `${96 << 20} 250000000 30 0`);
    const none = s.berth(['update', id]);
    assert.equal(none.code, 125);
    assert.match(none.stderr, /you must provide one or more flags/);
    const tiny = s.berth(['update', '-m', '2m', id]);
    assert.equal(tiny.code, 1, 'as docker: the daemon refuses it, not the flag parser');
    assert.match(tiny.stderr, /Minimum memory limit allowed is 6MB/);
    s.berth(['rm', '-f', id]);
  });

  it('/sys/fs/cgroup in a container is its own cgroup, read-only, with nothing of the host above it', () => {
    const r = s.berth(['run', '--rm', '--network', 'none', '-m', '32m', 'busybox', 'sh', '-c', `
      cat /proc/self/cgroup | tail -1
      ls /sys/fs/cgroup | grep -c ${path.basename(s.root)} || true
      if echo 1 > /sys/fs/cgroup/${v2 ? 'pids.max' : 'pids/pids.max'}; then echo writable; else echo read-only; fi`]);
    assert.equal(r.code, 0, r.stderr);
    const [own, hostNames, writable] = r.stdout.trim().split('\n');
    assert.equal(own, '0::/');
    assert.equal(hostNames, '0', 'the host cgroup tree shows through');
    assert.equal(writable, 'read-only');
  });
});
