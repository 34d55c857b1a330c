// Waiting for a foreground process's output once it has exited. Its pipes
// stay open while anything it started in the background holds them (`sh -c
// 'server &'`); a cell must not hang on that, so after a short grace the
// streams are closed and the command ends.
import type { Readable } from 'stream';

export const DRAIN_GRACE_MS = 1000;

export async function drainAfterExit(h: { stdout: Readable | null; stderr: Readable | null }, pumping: Promise<void> | undefined): Promise<void> {
  if (!pumping) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), DRAIN_GRACE_MS)));
  const outcome = await Promise.race([pumping.then(() => 'done' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    h.stdout?.destroy();
    h.stderr?.destroy();
    await pumping;
  }
}
