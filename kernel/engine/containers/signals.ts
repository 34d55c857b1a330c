import { constants } from 'os';
import { BerthError } from '../errors';

// "TERM", "SIGTERM", "15" -> 15
export function parseSignal(text: string): number {
  const t = text.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n > 0 && n < 65) return n;
  } else {
    const name = (t.startsWith('SIG') ? t : `SIG${t}`) as keyof typeof constants.signals;
    const n = constants.signals[name];
    if (n !== undefined) return n;
  }
  throw new BerthError(`Invalid signal: ${text}; use a name such as SIGTERM or KILL, or a number`);
}
