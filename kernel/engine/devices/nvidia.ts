// NVIDIA GPUs, as docker's --gpus reaches them through CDI: the
// nvidia.com/gpu devices of the NVIDIA Container Toolkit's spec (generated
// into Berth's run directory when the toolkit is installed and no spec
// is), and the figures nvidia-smi's query interface gives for stats and
// experiment records.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import type { CdiRegistry } from './cdi-registry';
import { DeviceRequest } from './types';

export const NVIDIA_KIND = 'nvidia.com/gpu';

// The capabilities docker's NVIDIA driver offers; those past gpu and
// nvidia are the toolkit's driver capabilities.
const DRIVER_CAPS = ['compute', 'compat32', 'graphics', 'utility', 'video', 'display'];
const NVIDIA_CAPS = ['gpu', 'nvidia', ...DRIVER_CAPS];

export function isGpuRequest(r: DeviceRequest): boolean {
  return r.Driver !== 'cdi';
}

// Which request's capability set the driver can serve (docker ORs the sets).
function selectedCaps(r: DeviceRequest): string[] {
  const sets = r.Capabilities?.length ? r.Capabilities : [['gpu']];
  if (r.Driver !== '' && r.Driver !== 'nvidia') throw new BerthError(`could not select device driver "${r.Driver}" with capabilities: ${JSON.stringify(sets)}; Berth's GPU driver is nvidia (leave driver= out)`);
  const set = sets.find((s) => s.every((c) => NVIDIA_CAPS.includes(c)));
  if (!set) throw new BerthError(`could not select device driver "${r.Driver}" with capabilities: ${JSON.stringify(sets)}; NVIDIA GPUs offer ${NVIDIA_CAPS.join(', ')}`);
  return set;
}

// The environment docker sets for an NVIDIA request.
export function gpuEnv(r: DeviceRequest): string[] {
  const caps = selectedCaps(r).filter((c) => DRIVER_CAPS.includes(c));
  let visible: string;
  if (r.DeviceIDs?.length) visible = r.DeviceIDs.join(',');
  else if (r.Count < 0) visible = 'all';
  else visible = Array.from({ length: r.Count }, (_, i) => String(i)).join(',');
  return [`NVIDIA_VISIBLE_DEVICES=${visible}`, ...(caps.length ? [`NVIDIA_DRIVER_CAPABILITIES=${caps.join(',')}`] : [])];
}

function onPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, program);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

// A registry that has NVIDIA's spec, generating it when only the toolkit is here.
export function withNvidiaSpec(registry: CdiRegistry, generatedDir: string, reload: () => CdiRegistry): CdiRegistry {
  if (registry.hasKind(NVIDIA_KIND)) return registry;
  const ctk = onPath('nvidia-ctk');
  if (!ctk) {
    throw new BerthError(
      `--gpus needs NVIDIA's CDI spec, and there is none in ${registry.dirs.join(', ')}: install the NVIDIA driver and the NVIDIA Container Toolkit (package nvidia-container-toolkit, which brings nvidia-ctk); Berth then writes the spec itself, or run nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`,
      'unavailable',
    );
  }
  const out = path.join(generatedDir, 'nvidia.yaml');
  fs.mkdirSync(generatedDir, { recursive: true, mode: 0o755 });
  try {
    execFileSync(ctk, ['cdi', 'generate', `--output=${out}`], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new BerthError(`nvidia-ctk could not write NVIDIA's CDI spec: ${(err.stderr?.toString() || err.message).trim().split('\n').pop()}; check that the NVIDIA driver is loaded (nvidia-smi)`, 'unavailable');
  }
  const again = reload();
  if (!again.hasKind(NVIDIA_KIND)) throw new BerthError(`nvidia-ctk wrote ${out}, but it holds no ${NVIDIA_KIND} devices; check the NVIDIA driver with nvidia-smi`, 'unavailable');
  return again;
}

// The CDI names a GPU request resolves to.
export function gpuDeviceNames(r: DeviceRequest, registry: CdiRegistry): string[] {
  selectedCaps(r);
  if (r.Count !== 0 && r.DeviceIDs?.length) throw new BerthError('cannot set both Count and DeviceIDs on device request: use --gpus N or --gpus "device=ID,..."');
  if (r.DeviceIDs?.length) return r.DeviceIDs.map((id) => `${NVIDIA_KIND}=${id}`);
  if (r.Count < 0) return [`${NVIDIA_KIND}=all`];
  // N GPUs: the first N by index, as docker's NVIDIA driver picks them.
  const indexes = registry.namesOfKind(NVIDIA_KIND).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
  if (r.Count > indexes.length) throw new BerthError(`--gpus ${r.Count} asks for ${r.Count} GPUs, and this host has ${indexes.length}; ask for fewer, or --gpus all`, 'unavailable');
  return indexes.slice(0, r.Count).map((n) => `${NVIDIA_KIND}=${n}`);
}

export interface GpuInfo {
  index: number;
  uuid: string;
  name: string;
  driver: string;
  utilization: number | null; // percent
  memoryUsed: number; // bytes, the whole device
  memoryTotal: number;
}

const MIB = 1024 * 1024;

// nvidia-smi's CSV (noheader, nounits): "[N/A]" and "[Not Supported]" are unknown.
function csvRows(text: string): string[][] {
  return text.split('\n').filter((l) => l.trim()).map((l) => l.split(',').map((f) => f.trim()));
}

function num(s: string | undefined): number | null {
  return s === undefined || !/^\d+(\.\d+)?$/.test(s) ? null : Number(s);
}

export function parseGpuQuery(text: string): GpuInfo[] {
  return csvRows(text).map((f) => ({
    index: Number(f[0]), uuid: f[1], name: f[2], driver: f[3], utilization: num(f[4]), memoryUsed: (num(f[5]) ?? 0) * MIB, memoryTotal: (num(f[6]) ?? 0) * MIB,
  }));
}

// GPU memory by host pid and device UUID, from --query-compute-apps.
export function parseAppsQuery(text: string): Array<{ uuid: string; pid: number; memory: number }> {
  return csvRows(text).map((f) => ({ uuid: f[0], pid: Number(f[1]), memory: (num(f[2]) ?? 0) * MIB }));
}

function smi(args: string[]): string | undefined {
  const bin = onPath('nvidia-smi');
  if (!bin) return undefined;
  try {
    return execFileSync(bin, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000 }).toString();
  } catch {
    return undefined;
  }
}

// Every GPU with its use now; undefined where nvidia-smi is missing or fails.
export function queryGpus(): GpuInfo[] | undefined {
  const out = smi(['--query-gpu=index,uuid,name,driver_version,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits']);
  return out === undefined ? undefined : parseGpuQuery(out);
}

export function queryGpuApps(): Array<{ uuid: string; pid: number; memory: number }> {
  const out = smi(['--query-compute-apps=gpu_uuid,pid,used_memory', '--format=csv,noheader,nounits']);
  return out === undefined ? [] : parseAppsQuery(out);
}

// The GPUs a container was given, from its NVIDIA_VISIBLE_DEVICES-like
// selection: "all", indexes or UUIDs.
export function selectGpus(all: GpuInfo[], cdiDevices: string[]): GpuInfo[] {
  const ids = cdiDevices.filter((d) => d.startsWith(`${NVIDIA_KIND}=`)).map((d) => d.slice(NVIDIA_KIND.length + 1));
  if (ids.includes('all')) return all;
  return all.filter((g) => ids.includes(String(g.index)) || ids.includes(g.uuid));
}
