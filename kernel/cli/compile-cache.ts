// V8's code cache for Berth's own modules, so a CLI call does not compile
// the same JavaScript again each time (Node 22 has module.enableCompileCache;
// Node 20, which Berth supports, does not). One file per user and Node
// version holds the cached code of every module under dist/; V8 itself
// checks each entry against the source and its flags and refuses a stale or
// damaged one, which is then compiled as usual and replaced at exit.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface ModuleInternals {
  _compile(content: string, filename: string): unknown;
  exports: unknown;
  require(id: string): unknown;
}

const MAGIC = 'berth-v8-cache-1\n';
const MAX_BYTES = 1 << 20;

function cacheFile(): string | undefined {
  if (process.env.BERTH_NO_COMPILE_CACHE) return undefined;
  const base = process.env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), '.cache') : '');
  if (!base) return undefined;
  return path.join(base, 'berth', `compile-${process.version}-${process.arch}-${process.getuid?.() ?? 0}.bin`);
}

// The file: MAGIC, one JSON line of [filename, offset, length], then the blobs.
function readCache(file: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  try {
    const buf = fs.readFileSync(file);
    if (buf.subarray(0, MAGIC.length).toString() !== MAGIC) return out;
    const nl = buf.indexOf(10, MAGIC.length);
    const index = JSON.parse(buf.subarray(MAGIC.length, nl).toString()) as Array<[string, number, number]>;
    for (const [name, at, len] of index) out.set(name, buf.subarray(nl + 1 + at, nl + 1 + at + len));
  } catch {
    /* no cache yet, or unreadable: compile as usual */
  }
  return out;
}

function writeCache(file: string, entries: Map<string, Buffer>): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const index: Array<[string, number, number]> = [];
    let at = 0;
    for (const [name, data] of entries) {
      index.push([name, at, data.length]);
      at += data.length;
    }
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(MAGIC + JSON.stringify(index) + '\n'), ...entries.values()]), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    /* a read-only home: the next call compiles again */
  }
}

// Cached code runs as whoever runs berth (root, usually): only a directory
// and file of this user's own, that no one else may write, and that are not
// links, are trusted; anything else and the cache is not used at all.
function trusted(p: string): boolean {
  try {
    const st = fs.lstatSync(p);
    return !st.isSymbolicLink() && st.uid === (process.getuid?.() ?? st.uid) && (st.mode & 0o022) === 0;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export function installCompileCache(root: string): void {
  const file = cacheFile();
  if (!file || !trusted(path.dirname(file)) || !trusted(file)) return;
  const Module = require('module') as { prototype: ModuleInternals; wrap(code: string): string; _resolveFilename(r: string, parent: unknown, isMain: boolean, opts?: unknown): string; _cache: unknown; _extensions: unknown };
  const vm = require('vm') as typeof import('vm');
  const cache = readCache(file);
  // Scripts compiled afresh; their code cache is taken at exit, when it
  // also holds the functions this call compiled lazily.
  const fresh = new Map<string, import('vm').Script>();
  const original = Module.prototype._compile;
  Module.prototype._compile = function (this: ModuleInternals, content: string, filename: string) {
    if (!filename.startsWith(root)) return original.call(this, content, filename);
    const cachedData = cache.get(filename);
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (!cachedData || script.cachedDataRejected) fresh.set(filename, script);
    const req = (id: string) => this.require(id);
    Object.assign(req, {
      resolve: (request: string, opts?: unknown) => Module._resolveFilename(request, this, false, opts),
      main: require.main,
      cache: Module._cache,
      extensions: Module._extensions,
    });
    const fn = script.runInThisContext({ displayErrors: true }) as (...a: unknown[]) => unknown;
    return fn.call(this.exports, this.exports, req, this, filename, path.dirname(filename));
  };
  process.once('exit', () => {
    if (!fresh.size) return;
    // A cache grown past what CLI calls need costs more to read than it
    // saves: start it again from this call's modules.
    if ([...cache.values()].reduce((n, b) => n + b.length, 0) > MAX_BYTES) for (const name of cache.keys()) if (!fresh.has(name)) cache.delete(name);
    for (const [name, script] of fresh) cache.set(name, script.createCachedData());
    writeCache(file, cache);
  });
}
