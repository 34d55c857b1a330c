// Contexts live in the user's config directory, one JSON file each, with
// the name of the one in use beside them (docker keeps its own in
// ~/.docker/contexts). BERTH_CONFIG moves the directory; BERTH_CONTEXT and
// the global --context choose one for a single call.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError, NotFoundError } from '../errors';
import { configDir } from '../store/config-dir';
import { writeJsonAtomic } from '../store/files';
import { checkName, validName } from '../names';
import { ContextRecord } from './types';

export const DEFAULT_CONTEXT = 'default';



export class ContextStore {
  readonly dir: string;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.dir = path.join(configDir(env), 'contexts');
  }

  private file(name: string): string {
    return path.join(this.dir, `${checkName('context', name)}.json`);
  }

  private currentFile(): string {
    return path.join(this.dir, 'current');
  }

  list(): ContextRecord[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
    } catch {
      /* none yet */
    }
    return [this.defaultContext(), ...names.map((n) => this.get(n))];
  }

  private defaultContext(): ContextRecord {
    return { Name: DEFAULT_CONTEXT, Metadata: { Description: 'This machine' }, Endpoints: {} };
  }

  get(name: string): ContextRecord {
    if (name === DEFAULT_CONTEXT) return this.defaultContext();
    const file = this.file(name);
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as ContextRecord;
    } catch {
      throw new NotFoundError(`context "${name}" does not exist; berth context ls lists them, berth context create ${name} --slurm makes one`);
    }
  }

  create(rec: ContextRecord): void {
    if (!validName('context', rec.Name) || rec.Name === DEFAULT_CONTEXT) {
      throw new BerthError(`context name "${rec.Name}" is invalid: ${rec.Name === DEFAULT_CONTEXT ? '"default" is this machine' : 'use letters, digits, ".", "_", "+" and "-", starting with a letter or digit'}`);
    }
    if (fs.existsSync(this.file(rec.Name))) throw new BerthError(`context "${rec.Name}" already exists; berth context rm ${rec.Name} first`, 'conflict');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeJsonAtomic(this.file(rec.Name), rec);
  }

  remove(name: string, force: boolean): void {
    if (name === DEFAULT_CONTEXT) throw new BerthError('the default context (this machine) cannot be removed', 'conflict');
    this.get(name);
    if (this.currentName() === name) {
      if (!force) throw new BerthError(`context "${name}" is in use; berth context use default first, or rm -f`, 'conflict');
      fs.rmSync(this.currentFile(), { force: true });
    }
    fs.rmSync(this.file(name), { force: true });
  }

  // The context in use: an override (--context, BERTH_CONTEXT), else the chosen one.
  currentName(override?: string): string {
    if (override) return override;
    if (this.env.BERTH_CONTEXT) return this.env.BERTH_CONTEXT;
    try {
      return fs.readFileSync(this.currentFile(), 'utf8').trim() || DEFAULT_CONTEXT;
    } catch {
      return DEFAULT_CONTEXT;
    }
  }

  use(name: string): void {
    this.get(name);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (name === DEFAULT_CONTEXT) fs.rmSync(this.currentFile(), { force: true });
    else fs.writeFileSync(this.currentFile(), `${name}\n`);
  }
}
