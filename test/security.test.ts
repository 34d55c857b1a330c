// What keeps a container's root from reaching the host.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TestStore, testStore } from './helpers';

let s: TestStore;
before(async () => {
  s = await testStore('security');
});
after(async () => {
  await s.cleanup();
});

function sh(script: string, extra: string[] = []) {
  return s.berth(['run', '--rm', ...extra, 'busybox', 'sh', '-c', script]);
}

describe('container security', () => {
  it("keeps only Docker's default capabilities, with no_new_privs and a seccomp filter", () => {
    const st = sh('grep -E "^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status').stdout;
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    assert.match(st, /CapEff:\s+00000000a80425fb/);
    assert.match(st, /CapBnd:\s+00000000a80425fb/);
    assert.match(st, /CapInh:\s+0000000000000000/);
    assert.match(st, /NoNewPrivs:\s+1/);
    assert.match(st, /Seccomp:\s+2/);
  });

  it('gives a non-root user no capabilities at all', () => {
    assert.match(sh('grep CapEff /proc/self/status', ['-u', 'nobody']).stdout, /CapEff:\s+0000000000000000/);
  });

  it('refuses mount, unshare and namespace-creating clone even to root', () => {
    const r = sh('mount -t tmpfs none /mnt 2>&1; unshare -n true 2>&1; echo done');
    assert.match(r.stdout, /mount: permission denied|Operation not permitted/);
    assert.match(r.stdout, /unshare: .*Operation not permitted/);
    assert.match(r.stdout, /done/);
  });

  it("masks Docker's /proc paths and makes /proc/sys read-only", () => {
    const fs = require('fs');
    // Which of them exist depends on the kernel: check those this host has.
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/proc/scsi'].filter((p) => fs.existsSync(p));
    assert.ok(masked.length > 0);
    const r = sh(`for p in ${masked.join(' ')}; do echo "$p $(cat $p 2>/dev/null | wc -c) $(ls $p 2>/dev/null | wc -l)"; done; echo 1 > /proc/sys/kernel/ns_last_pid`);
    for (const p of masked) assert.match(r.stdout, new RegExp(`^${p} 0 [01]$`, 'm'), r.stdout);
    assert.match(r.stderr, /Read-only file system/);
  });

  it('mounts /sys read-only', () => {
    assert.match(sh('touch /sys/kernel/x 2>&1; true').stdout, /Read-only file system/);
  });

  it('keeps host devices unreachable: /dev is minimal and mknod cannot make a usable disk node', () => {
    const r = sh('ls /dev | tr "\\n" " "; echo; mknod /dev/sda b 8 0 2>&1; mknod /tmp/sda b 8 0 && head -c1 /tmp/sda 2>&1; true');
    assert.equal(r.stdout.split('\n')[0].trim(), 'core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero');
    assert.match(r.stdout, /mknod: \/dev\/sda: Read-only file system/);
    assert.match(r.stdout, /head: \/tmp\/sda: Permission denied/); // nodev root
  });

  it('gives the container its own UTS, IPC and mount namespaces', () => {
    const inside = sh('readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/mnt /proc/self/ns/pid').stdout.trim().split('\n');
    const fs = require('fs');
    const host = ['uts', 'ipc', 'mnt', 'pid'].map((n) => fs.readlinkSync(`/proc/self/ns/${n}`));
    inside.forEach((ns, i) => assert.notEqual(ns, host[i]));
  });
});
