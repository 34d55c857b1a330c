// The shim's status lines, as native/src/shim/status.h defines them:
//   started PID | error CODE MESSAGE | exited CODE OOMKILLED PEAK CPU_NS
// (-1 for a figure that was not measured). One type for every event.
export type ShimStatus =
  | { kind: 'started'; pid: number }
  | { kind: 'error'; code: number; message: string }
  | { kind: 'exited'; exitCode: number; oomKilled: boolean; peakBytes: number; cpuNs: number };

export function parseShimStatus(line: string): ShimStatus | undefined {
  const [word, ...rest] = line.split(' ');
  switch (word) {
    case 'started':
      return { kind: 'started', pid: Number(rest[0]) };
    case 'error':
      return { kind: 'error', code: Number(rest[0]) || 125, message: rest.slice(1).join(' ') };
    case 'exited':
      return { kind: 'exited', exitCode: Number(rest[0]), oomKilled: rest[1] === '1', peakBytes: Number(rest[2] ?? -1), cpuNs: Number(rest[3] ?? -1) };
    default:
      return undefined; // a line this engine does not know: ignored, not fatal
  }
}
