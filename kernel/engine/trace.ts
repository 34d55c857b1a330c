// Breadcrumbs of what long operations were last waiting for: the last few
// phases of a build step, kept in memory only. A front end shows them when
// a command stops with work unfinished, so a rare hang says where it was.
const recent: string[] = [];

export function trace(phase: string): void {
  recent.push(`${new Date().toISOString().slice(11, 23)} ${phase}`);
  if (recent.length > 12) recent.shift();
}

export function recentTrace(): string[] {
  return [...recent];
}
