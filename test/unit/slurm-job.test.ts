// What a Slurm context asks the scheduler for and runs on the node: -m,
// --cpus and --gpus as Slurm's own flags, and the GPUs Slurm allocates
// handed to the node's Berth in docker's --gpus grammar.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import { parseGpus } from '../../kernel/commands/device-flags';
import { explain, SlurmBackend } from '../../kernel/engine/contexts/slurm';
import { jobStatusText } from '../../kernel/commands/remote-jobs';

const req = { name: 'berth-x', nodeArgv: ['run', '--rm', '--memory=268435456', 'reg:5000/lab/train@sha256:ab', 'python', 'train.py'], memory: 256 * 1048576, cpus: 2, gpus: 0 };

describe('Slurm jobs', () => {
  it('ask for memory, whole CPUs and GPUs in Slurm\'s terms', () => {
    const b = new SlurmBackend({ Partition: 'gpu', Account: 'lab', Time: '1:00:00', Berth: '/opt/berth/bin/berth' });
    assert.deepEqual(b.srunArgs({ ...req, gpus: 2 }).slice(0, 9), ['--job-name', 'berth-x', '--partition=gpu', '--account=lab', '--time=1:00:00', '--mem=256M', '--cpus-per-task=2', '--gres=gpu:2', '--ntasks=1']);
    assert.deepEqual(b.srunArgs(req).slice(-7), ['--', '/opt/berth/bin/berth', 'run', '--rm', '--memory=268435456', 'reg:5000/lab/train@sha256:ab', 'python', 'train.py'].slice(-7));
  });

  it('hand the node\'s Berth the GPUs Slurm allocated, not the first ones', () => {
    const cmd = new SlurmBackend({ Berth: 'echo' }).nodeCommand({ ...req, gpus: 2, gpuCapabilities: ['compute', 'utility'] });
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH, SLURM_STEP_GPUS: '1,3' } });
    assert.equal(r.status, 0, r.stderr);
    const argv = r.stdout.trim();
    assert.match(argv, /^run --gpus "device=1,3","capabilities=compute,utility" --rm --memory=268435456 reg:5000\/lab\/train@sha256:ab python train\.py$/);
    const value = /--gpus (\S+)/.exec(argv)![1];
    const g = parseGpus('run', value);
    assert.deepEqual(g.DeviceIDs, ['1', '3']);
    assert.deepEqual(g.Capabilities, [['compute', 'utility', 'gpu']]);
  });

  it('refuse on the node when Slurm names no GPU', () => {
    const cmd = new SlurmBackend({ Berth: 'echo' }).nodeCommand({ ...req, gpus: 1 });
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(r.status, 125);
    assert.match(r.stderr, /Slurm allocated GPUs but named none to this job/);
  });

  it('show as ps shows containers: queued, up on a node, exited and why', () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    const base = { ended: false, exitCode: null, node: '', partition: 'debug', reason: '', position: 0, startedAt: null, endedAt: null };
    assert.equal(jobStatusText({ ...base, state: 'PENDING', position: 2, reason: 'Resources' }, now), 'Queued on partition debug, position 2 (Resources)');
    assert.equal(jobStatusText({ ...base, state: 'RUNNING', node: 'n1', startedAt: '2026-12-03T11:59:30Z' }, now), 'Up 30 seconds on n1');
    assert.equal(jobStatusText({ ...base, state: 'COMPLETED', ended: true, exitCode: 3, endedAt: '2026-12-03T11:58:00Z' }, now), 'Exited (3) 2 minutes ago');
    assert.equal(jobStatusText({ ...base, state: 'TIMEOUT', ended: true, exitCode: 143, endedAt: '2026-12-03T11:59:55Z' }, now), 'Exited (143) 5 seconds ago (time limit)');
  });

  it('say in words why Slurm refused or ended a job, and what to do', () => {
    const ep = { Partition: 'short', Time: '0:30:00', Berth: '/opt/berth' };
    const r = { ...req, cpus: 64, memory: 0 };
    assert.match(explain('slurmstepd: error: *** JOB 12 ON n1 CANCELLED AT 2026-12-03T12:00:00 DUE TO TIME LIMIT ***', ep, r)!, /stopped the job at its time limit \(0:30:00\): ask for more time in the context \(--time\)/);
    assert.match(explain('slurmstepd: error: Detected 1 oom-kill event(s) in StepId=12.0. Some of your processes may have been killed by the cgroup out-of-memory handler.', ep, r)!, /more memory than it asked for: raise -m/);
    assert.match(explain('srun: error: Unable to allocate resources: Requested node configuration is not available', ep, r)!, /cannot give this run 64 CPUs on partition short: ask for less/);
    assert.match(explain('srun: error: Unable to allocate resources: Invalid partition name specified', ep, r)!, /no partition "short": sinfo lists them/);
    assert.match(explain('slurmstepd: error: execve(): /opt/berth: No such file or directory', ep, r)!, /Berth is not installed on the node \(\/opt\/berth was not found there\)/);
    assert.equal(explain('srun: error: some line Berth has no words for', ep, r), undefined);
  });
});
