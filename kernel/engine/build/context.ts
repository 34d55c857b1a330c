// The build context: which files COPY and ADD may read (.dockerignore
// applied), and a content hash of sources for the build cache. The hash
// covers names, types, modes and bytes, never mtimes, so touching a file
// keeps the cache and editing it does not.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { RootView, withFd } from '../store/in-root';

function globToRegex(pattern: string): RegExp {
  let re = '';
  const p = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*' && p[i + 1] === '*') {
      re += '.*';
      i++;
      if (p[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A matched directory excludes everything below it.
  return new RegExp(`^${re}(/.*)?$`);
}

// dockerignore-style patterns ("!" for exceptions, the last match wins) as
// a test on a slash-separated relative path (COPY --exclude too).
export function patternMatcher(patterns: string[]): (rel: string) => boolean {
  const rules = patterns
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? { re: globToRegex(path.posix.normalize(l.slice(1))), exclude: false } : { re: globToRegex(path.posix.normalize(l)), exclude: true }));
  return (rel) => {
    let out = false;
    for (const r of rules) if (r.re.test(rel)) out = r.exclude;
    return out;
  };
}

export class BuildContext {
  private readonly isIgnored: (rel: string) => boolean;
  private readonly ruleCount: number;
  // The context as a root: its links resolve inside it, never on the host.
  readonly view: RootView;

  // dockerfile: the Dockerfile's path; a NAME.dockerignore beside it
  // (app.Dockerfile.dockerignore) wins over the context's .dockerignore, as
  // in BuildKit.
  constructor(readonly dir: string, dockerfile?: string) {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new BerthError(`unable to prepare context: path "${dir}" not found; give the directory to build from`, 'not-found');
    }
    this.view = RootView.of(dir);
    let ignore = '';
    for (const f of [...(dockerfile ? [`${dockerfile}.dockerignore`] : []), path.join(dir, '.dockerignore')]) {
      try {
        ignore = fs.readFileSync(f, 'utf8');
        break;
      } catch {
        /* none here */
      }
    }
    const lines = ignore.split('\n');
    this.isIgnored = patternMatcher(lines);
    this.ruleCount = lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).length;
  }

  hasIgnoreRules(): boolean {
    return this.ruleCount > 0;
  }

  excluded(rel: string): boolean {
    return this.isIgnored(rel);
  }

  // Expands one COPY/ADD source (wildcards allowed) to context-relative
  // paths, each resolved inside the context (a link to /etc is the
  // context's etc, not the host's).
  resolve(source: string, line: number): string[] {
    return this.sources(source, line).map((s) => s.rel);
  }

  // The same, with the name each source had before it was resolved (a
  // link keeps its own name at the destination, as in BuildKit).
  sources(source: string, line: number): { rel: string; name: string }[] {
    const clean = path.posix.normalize(source.replace(/^\/+/, '')).replace(/^(\.\.\/)+/, '').replace(/\/+$/, '');
    if (clean === '.' || clean === '' || clean === '..') return [{ rel: '', name: '' }];
    if (!/[*?[]/.test(clean)) {
      const real = this.view.resolve(clean);
      if (!this.view.locate(real) || this.excluded(clean)) {
        throw new BerthError(`Dockerfile:${line}: COPY failed: file not found in build context or excluded by .dockerignore: stat ${clean}: file does not exist`, 'not-found');
      }
      return [{ rel: real, name: path.posix.basename(clean) }];
    }
    const re = globToRegex(clean);
    const exact = new RegExp(re.source.replace(/\(\/\.\*\)\?\$$/, '$'));
    const found = this.walk('').filter((r) => exact.test(r) && !this.excluded(r)).map((r) => ({ rel: this.view.resolve(r), name: path.posix.basename(r) }));
    if (!found.length) throw new BerthError(`Dockerfile:${line}: COPY failed: no source files were specified by ${source}`);
    return found;
  }

  // Every path below rel (context-relative, "" for the top), excluded ones
  // left out. Links are listed, never entered.
  walk(rel: string): string[] {
    const out: string[] = [];
    const visit = (r: string) => {
      for (const name of this.view.readdir(r)) {
        const child = r ? `${r}/${name}` : name;
        if (this.excluded(child)) continue;
        out.push(child);
        if (this.view.lstat(child)?.isDirectory()) visit(child);
      }
    };
    visit(rel);
    return out;
  }

  contentHash(sources: string[]): string {
    const h = createHash('sha256');
    const add = (rel: string) => {
      const f = this.view.locate(rel);
      if (!f) return;
      h.update(`${rel}\0${f.st.mode}\0`);
      if (f.st.isFile()) h.update(withFd(this.view.openFile(f), (fd) => fs.readFileSync(fd)));
      else if (f.st.isSymbolicLink()) h.update(this.view.readlink(f));
      h.update('\0');
    };
    for (const s of sources) {
      add(s);
      if (this.view.lstat(s)?.isDirectory()) for (const r of this.walk(s)) add(r);
    }
    return h.digest('hex');
  }
}
