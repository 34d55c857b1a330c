// COPY and ADD: sources from the context (.dockerignore applied), from
// another stage, from a URL or a local archive (ADD), staged in snapshot
// form with their owner and mode, then kept as the stage's next layer.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { BerthError } from '../errors';
import type { ImageStore } from '../images/store';
import { BuildContext, patternMatcher } from './context';
import { copyTree, CopyOptions, download, ensureParents, extractArchive, looksLikeArchive, Owner } from './copy';
import { createHash } from 'crypto';
import type { Of } from './instructions';
import { DockerfileError, heredocBody } from './parser';
import { ShellLexer } from './shell-lexer';
import { copyWords } from './copy-words';
import { appendLayer } from './run-step';
import { BuildEvent, State } from './types';

function lookupIn(images: ImageStore, chainIds: string[]): (rel: string) => fs.Stats | undefined {
  const dirs = [...chainIds].reverse().map((c) => images.snapshots.snapshotDir(c));
  return (rel) => {
    for (const d of dirs) {
      try {
        return fs.lstatSync(path.join(d, rel));
      } catch {
        /* not in this layer */
      }
    }
    return undefined;
  };
}

function owner(images: ImageStore, spec: string | undefined, st: State): Owner | undefined {
  if (!spec) return undefined;
  const [u, g] = spec.split(':');
  const read = (file: string) => {
    const found = [...st.chainIds].reverse().map((c) => path.join(images.snapshots.snapshotDir(c), file)).find((p) => fs.existsSync(p));
    return found ? fs.readFileSync(found, 'utf8').split('\n').map((l) => l.split(':')) : [];
  };
  const num = (name: string, table: string[][], what: string) => {
    if (/^\d+$/.test(name)) return Number(name);
    const row = table.find((r) => r[0] === name);
    if (!row) throw new BerthError(`unable to convert ${what} "${name}" to an id: no such entry in the image's /etc/${what === 'uid' ? 'passwd' : 'group'}`, 'not-found');
    return Number(row[2]);
  };
  const passwd = read('etc/passwd');
  const uid = num(u, passwd, 'uid');
  let gid = g ? num(g, read('etc/group'), 'gid') : uid;
  if (!g && !/^\d+$/.test(u)) gid = Number(passwd.find((r) => r[0] === u)?.[3] ?? uid);
  return { uid, gid };
}

export async function copyStep(images: ImageStore, ins: Of<'COPY' | 'ADD'>, st: State, vars: Map<string, string>, context: BuildContext, done: Map<string, State>, emit: (e: BuildEvent) => void, epoch: number | undefined): Promise<void> {
  const { sources, dest: destWord, from, chown, chmod } = copyWords(ins, vars);
  if (!destWord) throw new DockerfileError(ins.line, `${ins.kind} requires at least two arguments: ${ins.kind} SOURCE... DEST`);
  const workdir = st.config.config.WorkingDir || '/';
  const destAbs = path.posix.resolve(workdir, destWord);
  const opts: CopyOptions = { owner: owner(images, chown, st) ?? { uid: 0, gid: 0 } };
  if (chmod) {
    if (!/^[0-7]{3,4}$/.test(chmod)) throw new DockerfileError(ins.line, `invalid --chmod=${chmod}: use an octal mode such as 755`);
    opts.mode = parseInt(chmod, 8);
  }
  // --exclude patterns, matched below each source (as .dockerignore is).
  const excluded = patternMatcher(ins.exclude.map((p) => new ShellLexer({ escape: ins.escape }).word(p, vars)));
  const stage = path.join(images.paths.tmp, `copy-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(stage, { recursive: true });
  fs.chmodSync(stage, 0o755);
  const lookup = lookupIn(images, st.chainIds);
  const rel = (abs: string) => abs.replace(/^\/+/, '');
  // A directory destination: a trailing slash, "." (the WORKDIR), several
  // sources, or a directory the image already has.
  const destIsDir = /(^|\/)\.?\.?\/?$/.test(destWord) || sources.length > 1 || lookup(rel(destAbs))?.isDirectory() === true;
  const target = (name: string) => {
    const t = destIsDir || (fs.existsSync(path.join(stage, rel(destAbs))) && fs.statSync(path.join(stage, rel(destAbs))).isDirectory()) ? path.posix.join(destAbs, name) : destAbs;
    ensureParents(stage, `${rel(t)}`, lookup);
    return path.join(stage, rel(t));
  };
  try {
    for (const h of ins.heredocs) {
      const file = target(path.posix.basename(destWord.endsWith('/') ? h.name : destWord));
      const body = heredocBody(h);
      fs.writeFileSync(file, h.expand ? expandBody(body, vars, ins.escape) : body);
      fs.chmodSync(file, opts.mode ?? 0o644);
      fs.lchownSync(file, opts.owner?.uid ?? 0, opts.owner?.gid ?? 0);
    }
    for (const src of sources) {
      if (ins.kind === 'ADD' && /^https?:\/\//.test(src)) {
        const file = target(path.posix.basename(new URL(src).pathname) || 'download');
        await download(src, file);
        if (ins.checksum) verifyChecksum(file, ins.checksum, src, ins.line);
        fs.chmodSync(file, opts.mode ?? 0o600);
        continue;
      }
      if (from !== undefined) {
        const fromState = done.get(from.toLowerCase());
        const chains = fromState ? fromState.chainIds : images.resolve(from).chainIds;
        const srcRel = path.posix.normalize(src.replace(/^\/+/, ''));
        // The stage's file as its layers build it up, bottom layer first.
        const present = chains.map((c) => path.join(images.snapshots.snapshotDir(c), srcRel)).filter((p) => fs.lstatSync(p, { throwIfNoEntry: false }));
        if (!present.length) throw new DockerfileError(ins.line, `COPY --from=${from} failed: ${src} not found in that stage`);
        const isDir = fs.lstatSync(present[present.length - 1]).isDirectory();
        if (isDir) ensureParents(stage, `${rel(destAbs)}/x`, lookup);
        const dst = isDir ? path.join(stage, rel(destAbs)) : target(path.posix.basename(srcRel));
        // A stage's files keep their owner unless --chown says otherwise,
        // as in BuildKit; with nothing to change they are linked, not copied.
        // A clamped build (epoch) would change the shared file's time: copy.
        if (!isDir && excluded(path.posix.basename(srcRel))) continue;
        for (const p of present) copyTree(p, dst, { owner: chown ? opts.owner : undefined, mode: opts.mode, link: epoch === undefined, exclude: excluded });
        continue;
      }
      for (const r of context.resolve(src, ins.line)) {
        const abs = path.join(context.dir, r);
        const st2 = fs.lstatSync(abs);
        if (st2.isDirectory()) {
          const dst = path.join(stage, rel(destAbs));
          ensureParents(stage, `${rel(destAbs)}/x`, lookup);
          if (!fs.existsSync(dst)) fs.mkdirSync(dst, { mode: 0o755 });
          // A directory's contents are copied, not the directory itself;
          // .dockerignore applies at every depth.
          for (const childRel of context.walk(r)) {
            const below = r === '.' ? childRel : childRel.slice(r.length + 1);
            if (excluded(below)) continue;
            const from = path.join(context.dir, childRel);
            const to = path.join(dst, below);
            if (fs.lstatSync(from).isDirectory()) {
              if (!fs.existsSync(to)) fs.mkdirSync(to);
              fs.chmodSync(to, opts.mode ?? fs.statSync(from).mode & 0o7777);
              fs.lchownSync(to, opts.owner?.uid ?? 0, opts.owner?.gid ?? 0);
            } else {
              copyTree(from, to, opts);
            }
          }
        } else if (ins.kind === 'ADD' && looksLikeArchive(abs)) {
          const dst = path.join(stage, rel(destAbs));
          ensureParents(stage, `${rel(destAbs)}/x`, lookup);
          fs.mkdirSync(dst, { recursive: true });
          await extractArchive(abs, dst, (d, t) => emit({ type: 'unpack', name: r, done: d, total: t }));
        } else if (!excluded(path.posix.basename(r)) && !excluded(r)) {
          copyTree(abs, target(path.posix.basename(r)), opts);
        }
      }
    }
    await appendLayer(images, st, stage, epoch);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

// ADD --checksum=sha256:HEX: the download must be exactly that file.
function verifyChecksum(file: string, checksum: string, src: string, line: number): void {
  const m = /^sha256:([a-f0-9]{64})$/.exec(checksum);
  if (!m) throw new DockerfileError(line, `invalid --checksum=${checksum}: use sha256:<64 hex digits>`);
  const got = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (got !== m[1]) throw new DockerfileError(line, `ADD ${src}: checksum mismatch: expected sha256:${m[1]}, got sha256:${got}`);
}

// A COPY here-document expands $VARS (quotes and other escapes are the
// file's own text), as BuildKit does for an unquoted <<NAME; \$ is a $.
function expandBody(body: string, vars: Map<string, string>, escape: string): string {
  const lex = new ShellLexer({ escape });
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === escape && body[i + 1] === '$') {
      out += '$';
      i++;
    } else if (c === '$' && body[i + 1] === '{') {
      let depth = 0;
      let j = i + 1;
      for (; j < body.length; j++) {
        if (body[j] === '{') depth++;
        else if (body[j] === '}' && --depth === 0) break;
      }
      out += lex.word(body.slice(i, j + 1), vars);
      i = j;
    } else if (c === '$' && /[A-Za-z_]/.test(body[i + 1] ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i + 1))![0];
      out += vars.get(name) ?? '';
      i += name.length;
    } else out += c;
  }
  return out;
}
