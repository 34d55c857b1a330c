// A container's GPUs as a notebook shows them: utilisation and the GPU
// memory its own processes hold, per device, for stats; and the model,
// driver and peak memory for its experiment record. Read through
// nvidia-smi's query interface; a container without GPUs costs nothing.
import * as fs from 'fs';
import * as path from 'path';
import { NVIDIA_KIND, queryGpuApps, queryGpus, selectGpus } from '../devices/nvidia';
import { Container } from './types';

export interface GpuUse {
  index: number;
  uuid: string;
  name: string;
  driver: string;
  utilization: number | null; // percent of the whole device
  memoryUsed: number; // bytes held by the container's processes
  memoryTotal: number;
}

export interface GpuRecord {
  index: number;
  model: string;
  driver: string;
  memoryTotal: number;
  peakMemory: number | null; // bytes; null: never measured during the run
}

const DEVICES_FILE = 'devices.json';

// What the shim config was made with at the last start (the CDI devices resolved then).
export function writeStartedDevices(bundle: string, cdiDevices: string[]): void {
  const file = path.join(bundle, DEVICES_FILE);
  if (cdiDevices.length) fs.writeFileSync(file, JSON.stringify({ cdiDevices }));
  else fs.rmSync(file, { force: true });
}

export function startedDevices(c: Container): string[] {
  if (c.cdiDevices) return c.cdiDevices;
  try {
    return (JSON.parse(fs.readFileSync(path.join(c.bundle, DEVICES_FILE), 'utf8')) as { cdiDevices: string[] }).cdiDevices;
  } catch {
    return [];
  }
}

export function hasGpus(cdiDevices: string[]): boolean {
  return cdiDevices.some((d) => d.startsWith(`${NVIDIA_KIND}=`));
}

// Undefined for a container without GPUs; [] where nvidia-smi cannot tell.
export function gpuUse(c: Container, pids: number[]): GpuUse[] | undefined {
  const devices = startedDevices(c);
  if (!hasGpus(devices)) return undefined;
  const all = queryGpus();
  if (!all) return [];
  const mine = new Set(pids);
  const apps = queryGpuApps().filter((a) => mine.has(a.pid));
  return selectGpus(all, devices).map((g) => ({
    index: g.index, uuid: g.uuid, name: g.name, driver: g.driver, utilization: g.utilization, memoryTotal: g.memoryTotal,
    memoryUsed: apps.filter((a) => a.uuid === g.uuid).reduce((n, a) => n + a.memory, 0),
  }));
}

// Samples a running container's GPU memory until stopped, keeping the peak.
export class GpuPeak {
  private peaks = new Map<number, GpuRecord>();
  private timer: NodeJS.Timeout;

  constructor(private readonly sample: () => GpuUse[] | undefined, intervalMs = 500) {
    this.take();
    this.timer = setInterval(() => this.take(), intervalMs);
    this.timer.unref();
  }

  private take(): void {
    for (const g of this.sample() ?? []) {
      const had = this.peaks.get(g.index);
      this.peaks.set(g.index, { index: g.index, model: g.name, driver: g.driver, memoryTotal: g.memoryTotal, peakMemory: Math.max(had?.peakMemory ?? 0, g.memoryUsed) });
    }
  }

  stop(): GpuRecord[] {
    clearInterval(this.timer);
    return [...this.peaks.values()].sort((a, b) => a.index - b.index);
  }
}
