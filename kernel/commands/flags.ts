// Docker-CLI flag grammar (pflag's): --long, --long=value, -s value, -svalue,
// -s=value, grouped booleans (-it, -dit), "--" to end flags. Commands that
// take a command line after the image stop at the first positional.
import { BerthError } from '../engine';

export type FlagKind = 'bool' | 'string' | 'list';

export interface FlagSpec {
  long: string;
  short?: string;
  kind: FlagKind;
  help: string;
  value?: string; // placeholder in help, e.g. "bytes"
  aliases?: string[]; // other long names (--net for --network)
  default?: string;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  flags: FlagValues;
  args: string[];
}

// A command line that does not parse or a flag value that does not validate:
// docker answers these before doing anything, with its usage hint.
export class UsageError extends BerthError {
  constructor(message: string, command: string) {
    super(`${message}\nSee 'berth ${command} --help'.`);
    this.name = 'UsageError';
    this.command = command;
  }
}

// A flag's value that does not validate, in docker's words.
export function invalidFlag(cmd: string, value: string, flag: string, why: string): never {
  throw new UsageError(`invalid argument "${value}" for "${flag}" flag: ${why}`, cmd);
}

export function parseFlags(command: string, specs: FlagSpec[], argv: string[], interspersed: boolean): Parsed {
  const flags: FlagValues = {};
  const args: string[] = [];
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of specs) {
    byLong.set(s.long, s);
    for (const a of s.aliases ?? []) byLong.set(a, s);
    if (s.short) byShort.set(s.short, s);
    if (s.kind === 'list') flags[s.long] = [];
  }
  const set = (s: FlagSpec, v: string | boolean) => {
    if (s.kind === 'list') (flags[s.long] as string[]).push(String(v));
    else flags[s.long] = v;
  };
  const boolValue = (s: FlagSpec, text: string, shown: string): boolean => {
    if (/^(true|1|t)$/i.test(text)) return true;
    if (/^(false|0|f)$/i.test(text)) return false;
    throw new UsageError(`invalid argument "${text}" for "${shown}" flag: strconv.ParseBool: parsing "${text}": invalid syntax`, command);
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const s = byLong.get(name);
      if (!s) throw new UsageError(`unknown flag: --${name}`, command);
      if (s.kind === 'bool') set(s, eq < 0 ? true : boolValue(s, a.slice(eq + 1), `--${name}`));
      else if (eq >= 0) set(s, a.slice(eq + 1));
      else if (i + 1 < argv.length) set(s, argv[++i]);
      else throw new UsageError(`flag needs an argument: --${name}`, command);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j];
        const s = byShort.get(ch);
        if (!s) throw new UsageError(`unknown shorthand flag: '${ch}' in ${a}`, command);
        if (s.kind === 'bool') {
          if (a[j + 1] === '=') {
            set(s, boolValue(s, a.slice(j + 2), `-${ch}`));
            break;
          }
          set(s, true);
          continue;
        }
        let rest = a.slice(j + 1);
        if (rest.startsWith('=')) rest = rest.slice(1);
        if (rest) set(s, rest);
        else if (i + 1 < argv.length) set(s, argv[++i]);
        else throw new UsageError(`flag needs an argument: '${ch}' in -${ch}`, command);
        break;
      }
      continue;
    }
    args.push(a);
    if (!interspersed) {
      i++;
      break;
    }
  }
  args.push(...argv.slice(i));
  return { flags, args };
}

export function flagHelp(specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const names = `${s.short ? `-${s.short}, ` : '    '}--${s.long}${s.kind === 'bool' ? '' : ` ${s.value ?? (s.kind === 'list' ? 'list' : 'string')}`}`;
    return [names, s.help + (s.default ? ` (default ${s.default})` : '')];
  });
  const w = Math.max(...rows.map((r) => r[0].length), 10);
  return rows.map(([n, h]) => `  ${n.padEnd(w)}   ${h}`).join('\n');
}

// --label KEY=VALUE (repeatable) as a map; a bare KEY gets an empty value.
export function labelMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}
