// The crash suite: the CLI killed with SIGKILL (the process alone, or its
// whole process group) at seeded random moments of every operation that
// changes the store. After each kill, a new start must find the store
// whole: every listed image runs with every file of its layers, tmp and
// the trash are empty, and no name, bundle, cgroup, mount, lease or process
// is left over; then the same operation succeeds. The seed is printed;
// BERTH_CRASH_SEED repeats a run, BERTH_CRASH_KILLS sets kills per operation
// (npm test: 2; npm run test:crash: 20).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildContext, cliPath, TEST_CGROUP_ROOT, TestStore, testStore } from './helpers';
import { Registry, startRegistry } from './registry-server';

const SEED = Number(process.env.BERTH_CRASH_SEED ?? Date.now() % 1000003);
const KILLS = Number(process.env.BERTH_CRASH_KILLS ?? 2);
// Files in the test image's own layer: a half-deleted layer would have fewer.
const FILES = 1500;

// mulberry32: small, seeded, the same sequence for the same seed.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);

let s: TestStore;
let reg: Registry;
let work: string;

const ok = (args: string[], timeoutMs = 120000) => {
  const r = s.berth(args, { timeoutMs });
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const quiet = (args: string[]) => s.berth(args, { timeoutMs: 120000 });

// The CLI, killed after delayMs (the process, or its process group).
function killedAfter(args: string[], delayMs: number, group: boolean): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: s.env, stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      try {
        process.kill(group ? -child.pid! : child.pid!, 'SIGKILL');
      } catch {
        /* it had finished */
      }
    }, delayMs);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

// What must hold after any kill, once the store has been started again.
function assertWhole(label: string): void {
  ok(['ps', '-a']); // a start: recovers what the kill left
  const check = s.berth(['system', 'check']);
  assert.equal(check.code, 0, `${label}: system check found leftovers:\n${check.stdout}${check.stderr}`);
  assert.deepEqual(list(path.join(s.root, 'tmp')), [], `${label}: tmp is not empty`);
  assert.deepEqual(list(path.join(s.root, 'trash')), [], `${label}: the trash is not empty`);
  assert.deepEqual(list(path.join(s.root, 'leases')), [], `${label}: a lease outlived its operation`);
  // Every listed image runs, with every file of its layers.
  for (const id of ok(['images', '-aq', '--no-trunc']).split('\n').filter(Boolean)) {
    const r = s.berth(['run', '--rm', '--network', 'none', id, 'sh', '-c', 'test ! -f /data-count || test "$(ls /data | wc -l)" -eq "$(cat /data-count)"']);
    assert.equal(r.code, 0, `${label}: image ${id.slice(7, 19)} does not run whole: ${r.stderr}`);
  }
  // Names, bundles and records agree.
  const ids = list(path.join(s.root, 'containers')).filter((n) => /^[a-f0-9]{64}$/.test(n));
  for (const id of ids) assert.ok(fs.existsSync(path.join(s.root, 'containers', id, 'config.json')), `${label}: bundle ${id.slice(0, 12)} has no record`);
  for (const n of list(path.join(s.root, 'names'))) {
    const target = fs.readlinkSync(path.join(s.root, 'names', n));
    assert.ok(ids.includes(target), `${label}: the name ${n} leads to no container`);
  }
  // Mounts, processes and cgroups: only those of running containers.
  const running = ok(['ps', '-q', '--no-trunc']).split('\n').filter(Boolean);
  const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(s.root));
  assert.deepEqual(mounts, [], `${label}: mounts left on the host`);
  const shims = list('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${s.root}/`) && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith(path.join(path.dirname(cliPath), '..', '..', '..', 'native'));
    } catch {
      return false;
    }
  });
  assert.ok(shims.length <= running.length, `${label}: ${shims.length} shims for ${running.length} running containers`);
  const cg = path.join('/sys/fs/cgroup/memory', TEST_CGROUP_ROOT, path.basename(s.root));
  const groups = list(cg).filter((n) => /^[a-f0-9]{64}$/.test(n));
  for (const g of groups) assert.ok(running.includes(g) || ids.includes(g), `${label}: cgroup ${g.slice(0, 12)} of no container`);
}

interface Op {
  name: string;
  prepare(): void; // makes the operation's precondition hold
  args(): string[];
}

let n = 0;
const ops: Op[] = [
  { name: 'pull', prepare: () => void quiet(['rmi', '-f', `${reg.host}/crash/filler:v1`]), args: () => ['pull', `${reg.host}/crash/filler:v1`] },
  { name: 'push', prepare: () => void ok(['tag', 'filler', `${reg.host}/crash/pushed:v${++n}`]), args: () => ['push', `${reg.host}/crash/pushed:v${n}`] },
  { name: 'build', prepare: () => undefined, args: () => ['build', '--network', 'none', '--no-cache', '-q', '-t', 'crash-built', path.join(work, 'ctx-build')] },
  { name: 'commit', prepare: () => { quiet(['rm', '-f', 'commit-me']); ok(['run', '-d', '--name', 'commit-me', '--network', 'none', 'filler', 'sh', '-c', 'echo x > /made; sleep 600']); }, args: () => ['commit', 'commit-me', 'crash-committed'] },
  { name: 'load', prepare: () => void quiet(['rmi', '-f', 'filler-saved']), args: () => ['load', '-i', path.join(work, 'filler.tar')] },
  { name: 'save', prepare: () => undefined, args: () => ['save', '-o', path.join(work, 'saved.tar'), 'filler'] },
  { name: 'rmi', prepare: () => { ok(['load', '-i', path.join(work, 'victim.tar')]); }, args: () => ['rmi', 'victim'] },
  // A dangling image of its own layers (a build with no -t), for prune to take.
  { name: 'image prune', prepare: () => void ok(['build', '--network', 'none', '--no-cache', '-q', path.join(work, 'ctx-victim')], 300000), args: () => ['image', 'prune', '-f'] },
  { name: 'run -d', prepare: () => void quiet(['rm', '-f', 'run-me']), args: () => ['run', '-d', '--name', 'run-me', '--network', 'none', 'filler', 'sleep', '600'] },
  { name: 'rm -f', prepare: () => { quiet(['rm', '-f', 'rm-me']); ok(['run', '-d', '--name', 'rm-me', '--network', 'none', 'filler', 'sleep', '600']); }, args: () => ['rm', '-f', 'rm-me'] },
  { name: 'volume create', prepare: () => void quiet(['volume', 'rm', 'crash-vol']), args: () => ['volume', 'create', 'crash-vol'] },
  { name: 'volume rm', prepare: () => { quiet(['volume', 'create', 'crash-vol2']); ok(['run', '--rm', '--network', 'none', '-v', 'crash-vol2:/v', 'busybox', 'sh', '-c', 'for i in $(seq 300); do echo $i > /v/f$i; done']); }, args: () => ['volume', 'rm', 'crash-vol2'] },
  { name: 'network create', prepare: () => void quiet(['network', 'rm', 'crash-net']), args: () => ['network', 'create', 'crash-net'] },
  { name: 'network rm', prepare: () => void quiet(['network', 'create', 'crash-net2']), args: () => ['network', 'rm', 'crash-net2'] },
];

before(async () => {
  // eslint-disable-next-line no-console
  console.log(`# crash suite: seed ${SEED}, ${KILLS} kills per operation (BERTH_CRASH_SEED=${SEED} BERTH_CRASH_KILLS=${KILLS} repeats it)`);
  s = await testStore('crash');
  work = fs.mkdtempSync(path.join(s.root, 'crash-work-'));
  reg = await startRegistry(path.join(work, 'registry'));
  // The image every check counts the files of: one layer of FILES files.
  const filler = buildContext(s, 'filler', { Dockerfile: `FROM busybox\nRUN mkdir /data && for i in $(seq ${FILES}); do echo $i > /data/f$i; done && echo ${FILES} > /data-count\n` });
  ok(['build', '--network', 'none', '-q', '-t', 'filler', filler], 300000);
  buildContext(s, 'build', { Dockerfile: `FROM filler\nRUN for i in $(seq 800); do echo $i > /data/g$i; done && echo $((${FILES} + 800)) > /data-count\nCOPY . /ctx/\n`, 'a.txt': 'a'.repeat(100000) });
  fs.renameSync(path.join(s.root, 'ctx', 'build'), path.join(work, 'ctx-build'));
  ok(['tag', 'filler', `${reg.host}/crash/filler:v1`]);
  ok(['push', `${reg.host}/crash/filler:v1`]);
  ok(['rmi', `${reg.host}/crash/filler:v1`]);
  ok(['tag', 'filler', 'filler-saved']);
  ok(['save', '-o', path.join(work, 'filler.tar'), 'filler-saved']);
  ok(['rmi', 'filler-saved']);
  // An image of its own layers, for rmi and prune to delete.
  const victim = buildContext(s, 'victim', { Dockerfile: 'FROM busybox\nRUN mkdir /data && for i in $(seq 700); do echo v$i > /data/v$i; done && echo 700 > /data-count\n' });
  ok(['build', '--network', 'none', '-q', '-t', 'victim', victim], 300000);
  ok(['save', '-o', path.join(work, 'victim.tar'), 'victim']);
  ok(['rmi', 'victim']);
  fs.renameSync(victim, path.join(work, 'ctx-victim'));
});
after(async () => {
  await reg?.stop();
  await s?.cleanup();
});

describe('crash: SIGKILL at any moment leaves a whole store', () => {
  for (const op of ops) {
    it(`${op.name}: ${KILLS} kills at seeded moments`, async () => {
      // How long the operation takes uncut: kill points fall within it.
      op.prepare();
      const t0 = Date.now();
      ok(op.args());
      const full = Math.max(50, Date.now() - t0);
      for (let k = 0; k < KILLS; k++) {
        op.prepare();
        const at = Math.floor(random() * full * 1.1);
        const group = random() < 0.5;
        const label = `${op.name}, kill ${k + 1} at ${at} ms of ${full}${group ? ' (process group)' : ''}, seed ${SEED}`;
        await killedAfter(op.args(), at, group);
        assertWhole(label);
        // The same operation then succeeds.
        op.prepare();
        const again = s.berth(op.args(), { timeoutMs: 120000 });
        assert.equal(again.code, 0, `${label}: the operation failed after the kill: ${again.stderr}`);
        assertWhole(`${label}, after the rerun`);
      }
    });
  }
});

describe('crash: image prune racing builds and pulls', () => {
  it('prunes in a loop while builds and pulls run: every one succeeds, and what they made is whole', async () => {
    const pruning = { on: true, runs: 0 };
    const pruner = (async () => {
      while (pruning.on) {
        await s.berthAsync(['image', 'prune', '-f']);
        pruning.runs++;
      }
    })();
    const jobs: Array<Promise<{ what: string; code: number; stderr: string }>> = [];
    for (let i = 0; i < 4; i++) {
      const ctx = buildContext(s, `race-${i}`, { Dockerfile: `FROM filler\nRUN for j in $(seq 200); do echo ${i}-$j > /data/r$j; done && echo $((${FILES} + 200)) > /data-count\nRUN echo step2-${i} > /s2\n` });
      jobs.push(s.berthAsync(['build', '--network', 'none', '--no-cache', '-q', '-t', `raced-${i}`, ctx]).then((r) => ({ what: `build ${i}`, ...r })));
    }
    for (let i = 0; i < 2; i++) {
      quiet(['rmi', '-f', `${reg.host}/crash/filler:v1`]);
      jobs.push(s.berthAsync(['pull', `${reg.host}/crash/filler:v1`]).then((r) => ({ what: `pull ${i}`, ...r })));
    }
    const results = await Promise.all(jobs);
    pruning.on = false;
    await pruner;
    for (const r of results) assert.equal(r.code, 0, `${r.what} failed while prune ran (${pruning.runs} prunes): ${r.stderr}`);
    for (let i = 0; i < 4; i++) assert.equal(ok(['run', '--rm', '--network', 'none', `raced-${i}`, 'cat', '/s2']), `step2-${i}\n`);
    assertWhole(`prune racing builds and pulls (${pruning.runs} prunes)`);
  });
});

