// Contexts, and runs handed to a real one-node Slurm cluster (munge,
// slurmctld, slurmd from Debian) with images reaching the node through a
// real registry on 127.0.0.1: output, exit codes, limits, interrupts,
// queueing, refusals and records, as a notebook user sees them.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cliPath, repoRoot, TestStore, testStore } from './helpers';
import { Registry, startRegistry } from './registry-server';
import { Cluster, slurmInstalled, startCluster } from './slurm-cluster';

let s: TestStore;

async function until(ok: () => boolean, ms = 30000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return true;
}
let base: string;
const bin = path.join(repoRoot, 'bin', 'berth');

before(async () => {
  base = fs.mkdtempSync('/tmp/berth-slurm-');
  process.env.BERTH_CONFIG = path.join(base, 'config');
  process.env.SLURM_CONF = path.join(base, 'cluster', 'slurm.conf');
  s = await testStore('slurm');
});
after(async () => {
  await s.cleanup();
  fs.rmSync(base, { recursive: true, force: true });
});

describe('contexts', () => {
  it('are made, listed, chosen, shown and removed as docker\'s are', () => {
    const made = s.berth(['context', 'create', 'lab', '--slurm', '--partition', 'gpu', '--registry', '127.0.0.1:5999', '--description', 'the lab cluster']);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout, 'lab\n');
    assert.match(s.berth(['context', 'ls']).stdout, /^NAME\s+DESCRIPTION\s+ENDPOINT\ndefault \*\s+This machine\s+this machine\nlab\s+the lab cluster\s+slurm partition=gpu registry=127\.0\.0\.1:5999\n$/);
    assert.equal(s.berth(['context', 'use', 'lab']).stdout, 'lab\n');
    assert.equal(s.berth(['context', 'show']).stdout, 'lab\n');
    assert.equal(s.berth(['--context', 'default', 'context', 'show']).stdout, 'default\n');
    const shown = JSON.parse(s.berth(['context', 'inspect', 'lab']).stdout);
    assert.deepEqual(shown, [{ Name: 'lab', Metadata: { Description: 'the lab cluster' }, Endpoints: { slurm: { Partition: 'gpu', Registry: '127.0.0.1:5999' } } }]);
    assert.match(s.berth(['create', 'busybox']).stderr, /create acts on containers on this machine, and the context in use is "lab" \(a cluster/);
    assert.match(s.berth(['exec', 'x', 'true']).stderr, /add --context default, or berth context use default/);
    assert.match(s.berth(['context', 'rm', 'lab']).stderr, /context "lab" is in use/);
    assert.equal(s.berth(['context', 'use', 'default']).code, 0);
    assert.equal(s.berth(['context', 'rm', 'lab']).stdout, 'lab\n');
    assert.equal(s.berth(['context', 'ls', '-q']).stdout, 'default\n');
  });

  it('refuses what makes no sense, saying what to do', () => {
    assert.match(s.berth(['context', 'create', 'x', '--partition', 'p']).stderr, /--partition belongs to a Slurm context: add --slurm/);
    assert.match(s.berth(['context', 'create', 'default', '--slurm']).stderr, /"default" is this machine/);
    assert.match(s.berth(['context', 'use', 'nowhere']).stderr, /context "nowhere" does not exist/);
    assert.match(s.berth(['--context', 'nowhere', 'run', 'busybox', 'true']).stderr, /context "nowhere" does not exist/);
    // A machine without Slurm's commands: said before anything is pushed.
    assert.equal(s.berth(['context', 'create', 'far', '--slurm', '--registry', '127.0.0.1:9']).code, 0);
    const noSlurm = spawnSync(process.execPath, [cliPath, '--context', 'far', 'run', 'busybox', 'true'], { env: { ...s.env, PATH: '/nonexistent' }, encoding: 'utf8' });
    assert.equal(noSlurm.status, 125);
    assert.match(noSlurm.stderr, /Slurm's srun is not installed here, so this context cannot reach its cluster: install Slurm's client commands/);
    assert.equal(s.berth(['context', 'rm', 'far']).code, 0);
  });
});

describe('runs on a Slurm context', { skip: !slurmInstalled() && 'Slurm is not installed (Debian: munge slurmctld slurmd slurm-client)' }, () => {
  let cluster: Cluster;
  let reg: Registry;
  const hpc = (args: string[]) => s.berth(['--context', 'hpc', ...args], { timeoutMs: 120000 });
  const squeue = () => spawnSync('squeue', ['-h', '-o', '%j %T'], { encoding: 'utf8' }).stdout.trim();

  before(async () => {
    cluster = await startCluster(path.join(base, 'cluster'));
    reg = await startRegistry(path.join(base, 'registry'));
    const made = s.berth(['context', 'create', 'hpc', '--slurm', '--partition', 'debug', '--registry', reg.host, '--berth', bin]);
    assert.equal(made.code, 0, made.stderr);
  });
  after(async () => {
    spawnSync('scancel', ['--user', 'root'], { stdio: 'ignore' });
    await cluster?.stop();
    await reg?.stop();
  });

  it('streams the output and gives back the exit code; the image is pushed once', () => {
    const r = hpc(['run', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /pushed \d+ layers? of busybox to 127\.0\.0\.1:\d+/);
    assert.match(r.stderr, /^err$/m);
    const again = hpc(['run', '--network', 'none', 'busybox', 'true']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /busybox is in 127\.0\.0\.1:\d+ already/);
    assert.doesNotMatch(again.stderr, /pushed/);
  });

  it('asks Slurm for -m and --cpus, and the container is held to them inside the job; the record names the job and node', () => {
    const file = path.join(base, 'records.jsonl');
    const r = hpc(['run', '--network', 'none', '-m', '256m', '--cpus', '1.5', '-e', 'RUN_NAME=trial-7', '--record', file, 'busybox', 'sh', '-c',
      'echo $RUN_NAME; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'trial-7\n268435456\n150000\n', 'the env, and -m and --cpus held inside the job');
    const rec = JSON.parse(fs.readFileSync(file, 'utf8').trim().split('\n').pop()!);
    assert.equal(rec.context.name, 'hpc');
    assert.equal(rec.context.node, 'berthnode');
    assert.equal(rec.context.partition, 'debug');
    assert.match(rec.context.jobId, /^\d+$/);
    assert.equal(rec.exitCode, 0);
    assert.equal(rec.limits.memory, 268435456);
    const job = spawnSync('scontrol', ['show', 'job', rec.context.jobId], { encoding: 'utf8' }).stdout;
    assert.match(job, /MinMemoryNode=256M/);
    assert.match(job, /CPUs\/Task=2/);
  });

  it('cancels the job when the run is interrupted', async () => {
    const child = spawn(process.execPath, [cliPath, '--context', 'hpc', 'run', '--network', 'none', '--name', 'berth-interrupted', 'busybox', 'sleep', '60'], { env: s.env, stdio: 'ignore' });
    const end = Date.now() + 60000;
    while (!/berth-interrupted RUNNING/.test(squeue()) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    assert.match(squeue(), /berth-interrupted RUNNING/);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 30000))]);
    assert.notEqual(code, 'still running');
    const gone = Date.now() + 20000;
    while (/berth-interrupted/.test(squeue()) && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(squeue(), /berth-interrupted/);
    // The node (this machine, the suite's store) stopped and removed the container too.
    assert.equal(await until(() => s.berth(['--context', 'default', 'ps', '-aq']).stdout === ''), true, s.berth(['--context', 'default', 'ps', '-a']).stdout);
  });

  it('-d submits a job: ps shows it, logs -f follows it, stop cancels it, wait and ps -a say how it ended, rm forgets it', async (t) => {
    t.after(() => void spawnSync('scancel', ['--name', 'berth-ticker'], { stdio: 'ignore' }));
    const d = hpc(['run', '-d', '--network', 'none', '--name', 'berth-ticker', 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, 'berth-ticker\n');
    assert.match(hpc(['run', '-d', '--name', 'berth-ticker', 'busybox', 'true']).stderr, /name "\/berth-ticker" is already in use by a job/);
    assert.equal(await until(() => /Up .* on berthnode\s+berth-ticker/.test(hpc(['ps']).stdout)), true, hpc(['ps']).stdout);
    assert.match(hpc(['ps']).stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n\d+\s+busybox\s+"sh -c i=0; while tr…"\s+(\d+ seconds?|Less than a second) ago\s+Up (\d+ seconds?|Less than a second) on berthnode\s+berth-ticker\n$/);
    assert.equal(await until(() => /tick 3\n/.test(hpc(['logs', 'berth-ticker']).stdout)), true);
    const follow = s.berthAsync(['--context', 'hpc', 'logs', '-f', 'berth-ticker']);
    await new Promise((r) => setTimeout(r, 1500));
    const seen = (hpc(['logs', 'berth-ticker']).stdout.match(/tick/g) ?? []).length;
    const stopped = hpc(['stop', 'berth-ticker']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(stopped.stdout, 'berth-ticker\n');
    const followed = await follow;
    assert.equal(followed.code, 0, followed.stderr);
    const ticks = followed.stdout.trim().split('\n');
    assert.deepEqual(ticks, ticks.map((_, i) => `tick ${i + 1}`), 'logs -f gives every line once, in order');
    assert.ok(ticks.length > seen, `logs -f went on past what was written when it began (${ticks.length} > ${seen})`);
    assert.doesNotMatch(squeue(), /berth-ticker/);
    assert.doesNotMatch(hpc(['ps']).stdout, /berth-ticker/);
    assert.match(hpc(['ps', '-a']).stdout, /Exited \(1[34][37]\) .* \(cancelled\)\s+berth-ticker/);
    assert.match(hpc(['wait', 'berth-ticker']).stdout, /^1[34][37]\n$/);
    assert.equal(s.berth(['--context', 'default', 'ps', '-aq']).stdout, '', 'the container on the node was stopped and removed');

    const done = hpc(['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'echo result; echo warn >&2; exit 4']);
    assert.equal(done.code, 0, done.stderr);
    const handle = done.stdout.trim();
    assert.match(handle, /^berth-[0-9a-f]{12}$/);
    assert.equal(hpc(['wait', handle]).stdout, '4\n');
    const logs = hpc(['logs', handle]);
    assert.equal(logs.stdout, 'result\n');
    assert.equal(logs.stderr, 'warn\n');
    assert.match(hpc(['ps', '-a']).stdout, new RegExp(`Exited \\(4\\) .*${handle}`));
    assert.equal(hpc(['rm', handle, 'berth-ticker']).code, 0);
    assert.equal(hpc(['ps', '-aq']).stdout, '');
    assert.match(hpc(['logs', handle]).stderr, /No such container: berth-/);
  });

  // Any local user reads every process's argv in /proc: no secret may be there.
  // The user's own `berth ... -e PASSWORD=...` is theirs (docker's is the
  // same); what Berth starts from it must not repeat the value.
  const onAnyCommandLine = (needles: string[]) => {
    const seen: string[] = [];
    for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmd = '';
      try {
        cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      if (cmd.includes(`${cliPath}\0`)) continue;
      for (const n of needles) if (cmd.includes(n)) seen.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
    }
    return seen;
  };

  it('-e and --env-file values reach the container, never a command line, a job script or a readable file', async (t) => {
    t.after(() => void spawnSync('scancel', ['--name', 'berth-secretive'], { stdio: 'ignore' }));
    const envFile = path.join(base, 'secrets.env');
    fs.writeFileSync(envFile, 'API_KEY=from-file-8d1c\nPLAIN=from-file-plain\n');
    const secrets = ['pw-fg-41a7', 'from-file-8d1c', 'pw-bg-93e2'];
    // In the foreground: watch every command line while srun and the node's Berth run.
    const fg = s.berthAsync(['--context', 'hpc', 'run', '--network', 'none', '-e', 'PASSWORD=pw-fg-41a7', '--env-file', envFile, 'busybox', 'sh', '-c', 'sleep 2; echo $PASSWORD $API_KEY']);
    const leaks: string[] = [];
    let done = false;
    void fg.then(() => (done = true));
    while (!done) {
      leaks.push(...onAnyCommandLine(secrets));
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await fg;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pw-fg-41a7 from-file-8d1c\n', 'the container got both values');
    assert.deepEqual(leaks, [], 'a secret stood on a command line');
    // In the background: the job script Slurm keeps, and the files beside the job.
    const d = hpc(['run', '-d', '--network', 'none', '--name', 'berth-secretive', '-e', 'PASSWORD=pw-bg-93e2', '--env-file', envFile, 'busybox', 'sh', '-c', 'echo $PASSWORD $API_KEY']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(onAnyCommandLine(secrets), []);
    const jobsDir = path.join(base, 'config', 'jobs', 'hpc');
    const jobId = JSON.parse(fs.readFileSync(path.join(jobsDir, 'berth-secretive.json'), 'utf8')).JobId;
    const script = spawnSync('scontrol', ['write', 'batch_script', jobId, '-'], { encoding: 'utf8' });
    assert.equal(script.status, 0, script.stderr);
    for (const v of secrets) assert.ok(!script.stdout.includes(v), `the job script holds ${v}`);
    assert.equal(hpc(['wait', 'berth-secretive']).stdout, '0\n');
    assert.equal(hpc(['logs', 'berth-secretive']).stdout, 'pw-bg-93e2 from-file-8d1c\n');
    assert.equal(fs.statSync(jobsDir).mode & 0o777, 0o700);
    for (const f of fs.readdirSync(jobsDir)) assert.equal(fs.statSync(path.join(jobsDir, f)).mode & 0o077, 0, `${f} is readable by others`);
    assert.ok(!fs.existsSync(path.join(jobsDir, 'berth-secretive.env')), 'the env file outlived the job');
    assert.equal(hpc(['rm', 'berth-secretive']).code, 0);
  });

  it('checks names before any path is made from them', () => {
    const jobsDir = path.join(base, 'config', 'jobs');
    const before = fs.readdirSync(base).sort();
    const bad = hpc(['run', '-d', '--name', '../../../x', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Invalid container name \(\.\.\/\.\.\/\.\.\/x\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
    assert.deepEqual(fs.readdirSync(base).sort(), before);
    assert.ok(!fs.readdirSync(jobsDir, { recursive: true }).some((f) => String(f).includes('x.')));
    // --context names a file of the store's, never any .json on the machine.
    const ctx = s.berth(['--context', '../../x', 'ps']);
    assert.notEqual(ctx.code, 0);
    assert.match(ctx.stderr, /invalid context name "\.\.\/\.\.\/x"/);
    assert.match(s.berth(['volume', 'create', '../x']).stderr, /includes invalid characters for a local volume name/);
    assert.match(s.berth(['network', 'create', '../x']).stderr, /invalid network name "\.\.\/x"/);
  });

  it('says a job is queued while it waits, then runs it', async () => {
    const first = s.berthAsync(['--context', 'hpc', 'run', '--network', 'none', '--cpus', String(cluster.cpus), '--name', 'berth-holder', 'busybox', 'sleep', '4']);
    const end = Date.now() + 60000;
    while (!/berth-holder RUNNING/.test(squeue()) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    const second = hpc(['run', '--network', 'none', '--cpus', String(cluster.cpus), 'busybox', 'echo', 'my turn']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, 'my turn\n');
    assert.match(second.stderr, /queued on partition debug, position 1/);
    assert.equal((await first).code, 0);
  });

  it('refuses what the cluster cannot give, with what to do', () => {
    const big = hpc(['run', '--network', 'none', '--cpus', '64', 'busybox', 'true']);
    assert.equal(big.code, 125);
    assert.match(big.stderr, /the cluster cannot give this run 64 CPUs on partition debug: ask for less/);
    assert.equal(s.berth(['context', 'create', 'nopart', '--slurm', '--partition', 'nope', '--registry', reg.host, '--berth', bin]).code, 0);
    const part = s.berth(['--context', 'nopart', 'run', '--network', 'none', 'busybox', 'true'], { timeoutMs: 60000 });
    assert.equal(part.code, 125);
    assert.match(part.stderr, /Slurm has no partition "nope": sinfo lists them/);
    assert.equal(s.berth(['context', 'create', 'noberth', '--slurm', '--registry', reg.host, '--berth', '/nonexistent/berth']).code, 0);
    const missing = s.berth(['--context', 'noberth', 'run', '--network', 'none', 'busybox', 'true'], { timeoutMs: 60000 });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Berth is not installed on the node/);
    assert.match(hpc(['run', '-v', '/tmp:/data', 'busybox', 'true']).stderr, /-v names this machine's files/);
    assert.match(hpc(['run', '--gpus', 'all', 'busybox', 'true']).stderr, /takes a number of GPUs \(--gpus 2\): Slurm chooses/);
    assert.match(hpc(['stop', '-t', '3', 'nothing']).stderr, /leave out -t/);
  });

  it('leaves no job behind', () => {
    assert.equal(squeue(), '');
  });
});
