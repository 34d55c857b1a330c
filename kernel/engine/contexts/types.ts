// Where a run goes, as docker's contexts name it: "default" is this
// machine; a Slurm context hands runs to a cluster. A backend is one small
// interface (JobBackend), so that another scheduler (a Kubernetes Job) can
// stand beside Slurm without commands or render changing.
import type { Readable } from 'stream';

export interface SlurmEndpoint {
  Partition?: string;
  Account?: string;
  Time?: string; // Slurm's --time, e.g. 1:00:00
  Registry?: string; // HOST:PORT the nodes pull from
  Berth?: string; // Berth's command on the nodes (default: berth on their PATH)
}

// The shape docker context inspect prints, with Berth's endpoint kinds.
export interface ContextRecord {
  Name: string;
  Metadata: { Description: string };
  Endpoints: { slurm?: SlurmEndpoint };
}

// A run the backend starts on the cluster: Berth's own argv for the node
// (`berth run --rm ... IMAGE@DIGEST CMD`) and what the scheduler allocates.
export interface JobRequest {
  name: string; // the job's name (--name, or one Berth makes)
  nodeArgv: string[]; // after the node's berth command: ['run', ...flags, IMAGE@DIGEST, ...command]
  memory: number; // bytes, 0 = the partition's default
  cpus: number; // whole CPUs, 0 = the default
  gpus: number; // 0 = none
  gpuCapabilities?: string[]; // docker's capabilities= for them
  cleanup?: string[]; // files a background job's script removes once the node's Berth is done
}

export interface JobInfo {
  jobId: string;
  state: string; // PENDING, RUNNING, ...
  node: string;
  partition: string;
  reason: string; // why it waits
  position: number; // in the partition's queue, 1 = next; 0 when not pending
  queuedSeconds: number | null;
}

export interface JobHandle {
  stdout: Readable;
  stderr: Readable;
  // The exit code as the program gave it; a scheduler's refusal or kill
  // rejects with a BerthError that says why and what to do.
  exited: Promise<number>;
  // The job as the scheduler last showed it (polled while it runs).
  info(): JobInfo | undefined;
  onInfo(cb: (j: JobInfo) => void): void;
  cancel(): void;
}

// A job Berth submitted in the background (run -d), as kept beside the
// context: enough to list it, find its output and say how it ended.
export interface JobRecord {
  Handle: string; // what run -d printed: the job's name
  JobId: string;
  Context: string;
  Image: string; // as the user named it
  Command: string[];
  Created: string; // ISO time of submission
  Out: string; // the files the job writes its stdout and stderr to
  Err: string;
  ExitFile: string; // the program's exit code, written by the job's script
}

// Where a job stands, from the scheduler and the job's own exit file.
export interface JobStatus {
  state: string; // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, ... or UNKNOWN
  ended: boolean;
  exitCode: number | null; // the program's, once ended
  node: string;
  partition: string;
  reason: string;
  position: number;
  startedAt: string | null; // ISO
  endedAt: string | null;
}

export interface JobBackend {
  readonly kind: string;
  // Throws (unavailable) when this machine cannot reach the scheduler at
  // all, before anything is pushed for a job.
  ready(): void;
  // In the foreground: output streams back, the exit code is the program's.
  run(req: JobRequest): JobHandle;
  // In the background: the scheduler's job ID; output goes to the files named.
  submit(req: JobRequest, files: { out: string; err: string; exit: string }): string;
  status(rec: JobRecord): JobStatus;
  // No signal: end the job (the node's Berth stops the container, TERM then
  // KILL). A signal: pass it to the job's Berth, which passes it on.
  cancel(jobId: string, signal?: string): void;
}
