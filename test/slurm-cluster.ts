// A one-node Slurm cluster from Debian's packages (munge, slurmctld,
// slurmd), its files in the test's directory, its daemons this file's
// children, stopped by process id. It runs in the suite's own network
// namespace; a veth pair kept inside it, with 127.0.0.2 on one end, lets
// glibc resolve names there (AI_ADDRCONFIG ignores loopback).
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface Cluster {
  conf: string; // SLURM_CONF for the client commands
  cpus: number;
  stop(): Promise<void>;
}

export function slurmInstalled(): boolean {
  return ['munged', 'slurmctld', 'slurmd', 'srun'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
}

async function until(what: string, ok: () => boolean, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`the test cluster did not come up: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startCluster(dir: string): Promise<Cluster> {
  const cpus = Math.min(2, os.cpus().length);
  for (const d of ['munge', 'state', 'spool', 'log']) fs.mkdirSync(path.join(dir, d), { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o755); // munged wants its socket's directories reachable
  fs.writeFileSync(path.join(dir, 'munge', 'key'), require('crypto').randomBytes(1024), { mode: 0o400 });
  const veth = `bsl${process.pid % 100000}`;
  spawnSync('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`]);
  spawnSync('ip', ['addr', 'add', '127.0.0.2/8', 'dev', veth]);
  spawnSync('ip', ['link', 'set', veth, 'up']);
  const sock = path.join(dir, 'munge', 'sock');
  const conf = path.join(dir, 'slurm.conf');
  const host = os.hostname().split('.')[0];
  fs.writeFileSync(conf, [
    'ClusterName=berthtest', `SlurmctldHost=${host}(127.0.0.1)`, 'SlurmUser=root', 'SlurmdUser=root',
    'AuthType=auth/munge', `AuthInfo=socket=${sock}`, 'CredType=cred/munge', 'MailProg=/bin/true',
    `SlurmctldPort=${17000 + (process.pid % 1000) * 2}`, `SlurmdPort=${17001 + (process.pid % 1000) * 2}`,
    `StateSaveLocation=${path.join(dir, 'state')}`, `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
    `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`, `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${path.join(dir, 'log', 'slurmctld.log')}`, `SlurmdLogFile=${path.join(dir, 'log', 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU_Memory',
    'MpiDefault=none', 'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none', 'ReturnToService=2',
    'SchedulerParameters=sched_interval=1', 'MinJobAge=600',
    `NodeName=berthnode NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=2048 State=UNKNOWN`,
    'PartitionName=debug Nodes=berthnode Default=YES MaxTime=INFINITE State=UP',
  ].join('\n') + '\n');
  const env = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const daemon = (cmd: string, args: string[]) => {
    const c = spawn(cmd, args, { env, stdio: 'ignore' });
    children.push(c);
    return c;
  };
  const stop = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    spawnSync('ip', ['link', 'del', veth]);
  };
  try {
    daemon('munged', ['-F', '--force', `--key-file=${path.join(dir, 'munge', 'key')}`, `--socket=${sock}`, `--pid-file=${path.join(dir, 'munge', 'pid')}`, `--log-file=${path.join(dir, 'log', 'munged.log')}`, `--seed-file=${path.join(dir, 'munge', 'seed')}`]);
    await until('munged', () => fs.existsSync(sock));
    daemon('slurmctld', ['-D', '-c', '-f', conf]);
    daemon('slurmd', ['-D', '-N', 'berthnode', '-f', conf]);
    await until('the node to be idle', () => /idle/.test(spawnSync('sinfo', ['-h', '-o', '%t'], { env, encoding: 'utf8' }).stdout ?? ''));
  } catch (e) {
    await stop();
    const logs = ['slurmctld.log', 'slurmd.log', 'munged.log'].map((f) => { try { return fs.readFileSync(path.join(dir, 'log', f), 'utf8').slice(-1500); } catch { return ''; } }).join('\n');
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
  return { conf, cpus, stop };
}
