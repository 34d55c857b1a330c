// COPY and ADD: sources from the context (.dockerignore applied), from
// another stage, from a URL or a local archive (ADD), staged in snapshot
// form with their owner and mode, then kept as the stage's next layer.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { BerthError } from '../errors';
import type { ImageStore } from '../images/store';
import { BuildContext, patternMatcher } from './context';
import { copyEntry, CopyOptions, download, extractArchive, looksLikeArchive, Owner } from './copy';
import { fdPath, RootView, withFd } from '../store/in-root';
import { layersView } from './layers-view';
import type { Of } from './instructions';
import { DockerfileError, heredocBody } from './parser';
import { ShellLexer } from './shell-lexer';
import { copyWords } from './copy-words';
import { appendLayer } from './run-step';
import { BuildEvent, State } from './types';

function owner(image: RootView, spec: string | undefined): Owner | undefined {
  if (!spec) return undefined;
  const [u, g] = spec.split(':');
  // The image's own files, resolved inside it: a link at /etc/passwd reads the image's target, never the host's.
  const read = (file: string) => (image.readFile(file)?.toString('utf8') ?? '').split('\n').map((l) => l.split(':'));
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
  const stage = path.join(images.paths.tmp, `copy-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(stage, { recursive: true });
  fs.chmodSync(stage, 0o755);
  // The image being built as one root: its layers with the staged layer on
  // top. Every destination resolves in it, links in the image and links
  // this COPY has just staged alike, and is written only into the stage.
  const image = layersView(images, st.chainIds, stage);
  const opts: CopyOptions = { owner: owner(image, chown) ?? { uid: 0, gid: 0 } };
  if (chmod) {
    if (!/^[0-7]{3,4}$/.test(chmod)) throw new DockerfileError(ins.line, `invalid --chmod=${chmod}: use an octal mode such as 755`);
    opts.mode = parseInt(chmod, 8);
  }
  // --exclude patterns, matched below each source (as .dockerignore is).
  const excluded = patternMatcher(ins.exclude.map((p) => new ShellLexer({ escape: ins.escape }).word(p, vars)));
  const isDirAt = (p: string) => image.lstat(image.resolve(p))?.isDirectory() === true;
  // A directory destination: a trailing slash, "." (the WORKDIR), several
  // sources, or a directory the image already has (or this COPY made).
  const destIsDir = /(^|\/)\.?\.?\/?$/.test(destWord) || sources.length > 1 || isDirAt(destAbs);
  const target = (name: string) => image.resolve(destIsDir || isDirAt(destAbs) ? path.posix.join(destAbs, name) : destAbs);
  try {
    for (const h of ins.heredocs) {
      const body = heredocBody(h);
      withFd(image.createFile(target(path.posix.basename(destWord.endsWith('/') ? h.name : destWord))), (fd) => {
        fs.writeSync(fd, h.expand ? expandBody(body, vars, ins.escape) : body);
        fs.fchmodSync(fd, opts.mode ?? 0o644);
        fs.fchownSync(fd, opts.owner?.uid ?? 0, opts.owner?.gid ?? 0);
      });
    }
    for (const src of sources) {
      if (ins.kind === 'ADD' && /^https?:\/\//.test(src)) {
        const fd = image.createFile(target(path.posix.basename(new URL(src).pathname) || 'download'));
        await withFdAsync(fd, async () => {
          const sha256 = await download(src, fd);
          if (ins.checksum) verifyChecksum(sha256, ins.checksum, src, ins.line);
          fs.fchmodSync(fd, opts.mode ?? 0o600);
        });
        continue;
      }
      if (from !== undefined) {
        const fromState = done.get(from.toLowerCase());
        const stageView = layersView(images, fromState ? fromState.chainIds : images.resolve(from).chainIds);
        // The source resolves inside the stage: "/../../etc" is the stage's
        // /etc, and a link there is followed to the stage's own file.
        const srcRel = stageView.resolve(src);
        const found = stageView.locate(srcRel);
        if (!found) throw new DockerfileError(ins.line, `COPY --from=${from} failed: ${src} not found in that stage`);
        // A stage's files keep their owner unless --chown says otherwise,
        // as in BuildKit; with nothing to change they are linked, not copied.
        // A clamped build (epoch) would change the shared file's time: copy.
        const copyOpts = { owner: chown ? opts.owner : undefined, mode: opts.mode, link: epoch === undefined, exclude: excluded };
        const name = path.posix.basename(path.posix.resolve('/', src)) || path.posix.basename(`/${srcRel}`);
        if (found.st.isDirectory()) copyEntry(stageView, srcRel, image, image.resolve(destAbs), copyOpts);
        else if (!excluded(name)) copyEntry(stageView, srcRel, image, target(name), copyOpts);
        continue;
      }
      const ctx = context.view;
      for (const { rel: r, name: srcName } of context.sources(src, ins.line)) {
        const found = ctx.locate(r);
        if (!found) throw new BerthError(`Dockerfile:${ins.line}: COPY failed: ${src} is a link to a file that is not in the build context`, 'not-found');
        if (found.st.isDirectory()) {
          // A directory's contents are copied, not the directory itself;
          // .dockerignore applies at every depth, --exclude below the source.
          const below = (c: string) => excluded(c) || context.excluded(r ? `${r}/${c}` : c);
          const destDir = image.resolve(destAbs);
          withFd(image.dirFd(destDir), () => undefined);
          for (const name of ctx.readdir(r)) {
            if (!below(name)) copyEntry(ctx, r ? `${r}/${name}` : name, image, destDir ? `${destDir}/${name}` : name, { ...opts, exclude: (c) => below(`${name}/${c}`) });
          }
        } else if (ins.kind === 'ADD' && looksLikeArchive(found, ctx)) {
          const destDir = image.resolve(destAbs);
          const dirFd = image.dirFd(destDir);
          await withFdAsync(dirFd, () => withFdAsync(ctx.openFile(found), (fd) => extractArchive(fdPath(fd), fdPath(dirFd), images.paths.tmp, (d, t) => emit({ type: 'unpack', name: r, done: d, total: t }))));
        } else if (!excluded(srcName) && !excluded(r)) {
          copyEntry(ctx, r, image, target(srcName || path.posix.basename(r)), opts);
        }
      }
    }
    await appendLayer(images, st, stage, epoch);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

async function withFdAsync<T>(fd: number, fn: (fd: number) => Promise<T>): Promise<T> {
  try {
    return await fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// ADD --checksum=sha256:HEX: the download must be exactly that file.
function verifyChecksum(got: string, checksum: string, src: string, line: number): void {
  const m = /^sha256:([a-f0-9]{64})$/.exec(checksum);
  if (!m) throw new DockerfileError(line, `invalid --checksum=${checksum}: use sha256:<64 hex digits>`);
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
