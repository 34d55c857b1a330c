// The Dockerfile builder. Each instruction makes a step image; a step is
// taken from the cache when its parent image, its instruction and (for COPY
// and ADD) the content of its sources are the same, as in Docker's builder.
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import { BerthError } from '../errors';
import { ContainerService } from '../containers/service';
import { writeLayer } from '../images/diff';
import { ImageStore } from '../images/store';
import { Descriptor, HistoryEntry, Image, ImageConfig } from '../images/types';
import { readJson, withLock, writeJsonAtomic } from '../store/files';
import { BuildContext } from './context';
import { copyTree, CopyOptions, download, ensureParents, extractArchive, looksLikeArchive, Owner } from './copy';
import { applyMetadata, DEFAULT_SHELL, envMap, METADATA_INSTRUCTIONS } from './metadata';
import { DockerfileError, expand, Instruction, parseDockerfile } from './parser';
import { parseReference } from '../images/reference';

export interface BuildRequest {
  context: string;
  dockerfile?: string; // path, default CONTEXT/Dockerfile
  dockerfileText?: string; // the Dockerfile itself (%%build)
  tags: string[];
  target?: string;
  noCache: boolean;
  buildArgs: Record<string, string>;
}

export type BuildEvent =
  | { type: 'step'; index: number; total: number; text: string }
  | { type: 'cached' }
  | { type: 'running'; containerId: string }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'removed'; containerId: string }
  | { type: 'unpack'; name: string; done: number; total: number }
  | { type: 'result'; imageId: string }
  | { type: 'done'; image: Image; tags: string[] };

interface State {
  config: ImageConfig;
  layers: Descriptor[];
  chainIds: string[];
  manifest: string | undefined; // the step image this state is, the cache's parent key
  args: Map<string, string>;
  cmdSet: boolean; // CMD given in this stage (ENTRYPOINT then keeps it)
}

function emptyConfig(): ImageConfig {
  return {
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    created: new Date().toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

export class Builder {
  private cacheFile: string;

  constructor(private readonly images: ImageStore, private readonly containers: ContainerService) {
    this.cacheFile = path.join(images.paths.images, 'build-cache.json');
  }

  async build(req: BuildRequest, emit: (e: BuildEvent) => void): Promise<Image> {
    for (const t of req.tags) parseReference(t); // a bad -t fails before any work
    const context = new BuildContext(path.resolve(req.context));
    const dfPath = req.dockerfile ? path.resolve(req.dockerfile) : path.join(context.dir, 'Dockerfile');
    let text = req.dockerfileText;
    if (text === undefined) {
      try {
        text = fs.readFileSync(dfPath, 'utf8');
      } catch {
        throw new BerthError(`unable to read the Dockerfile ${dfPath}: no such file; give one with -f`, 'not-found');
      }
    }
    const all = parseDockerfile(text);
    this.images.ensureLayout();
    // Stages: instructions grouped by FROM; global ARGs before the first.
    const globalArgs = new Map<string, string>();
    const stages: Array<{ name?: string; from: Instruction; body: Instruction[] }> = [];
    for (const ins of all) {
      if (ins.cmd === 'FROM') {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(ins.rest);
        if (!m) throw new DockerfileError(ins.line, `FROM takes IMAGE [AS NAME], got "${ins.rest}"`);
        stages.push({ name: m[2]?.toLowerCase(), from: ins, body: [] });
      } else if (!stages.length) {
        const [k, v] = ins.rest.split('=');
        globalArgs.set(k.trim(), req.buildArgs[k.trim()] ?? v ?? '');
      } else {
        stages[stages.length - 1].body.push(ins);
      }
    }
    let last = stages.length - 1;
    if (req.target) {
      last = stages.findIndex((s) => s.name === req.target!.toLowerCase());
      if (last < 0) throw new BerthError(`failed to reach build target ${req.target} in Dockerfile: no stage is named so`);
    }
    const total = stages.slice(0, last + 1).reduce((n, s) => n + 1 + s.body.length, 0);
    let step = 0;
    const done = new Map<string, State>();
    const byIndex: State[] = [];
    let state!: State;
    for (let si = 0; si <= last; si++) {
      const st = stages[si];
      emit({ type: 'step', index: ++step, total, text: st.from.original });
      state = await this.from(st.from, globalArgs, done);
      emit({ type: 'result', imageId: state.manifest ? this.images.load(state.manifest).id : 'scratch' });
      for (const trigger of state.config.config.OnBuild ?? []) {
        const [ins] = parseDockerfile(`FROM scratch\n${trigger}`).slice(1);
        state = await this.step(ins, state, context, req, done, emit);
      }
      for (const ins of st.body) {
        emit({ type: 'step', index: ++step, total, text: ins.original });
        state = await this.step(ins, state, context, req, done, emit);
      }
      if (st.name) done.set(st.name, state);
      done.set(String(si), state);
      byIndex.push(state);
    }
    // The result: tagged with every -t, or kept as a dangling image.
    const final = { ...state.config, created: state.config.created };
    let image: Image | undefined;
    for (const t of req.tags) image = this.images.commitImage(final, state.layers, t);
    if (!image) image = this.images.commitImage(final, state.layers);
    emit({ type: 'done', image, tags: image.refs.length ? req.tags : [] });
    return image;
  }

  private async from(ins: Instruction, globalArgs: Map<string, string>, done: Map<string, State>): Promise<State> {
    const ref = expand(ins.rest.split(/\s+/)[0], globalArgs);
    if (ref === 'scratch') return { config: emptyConfig(), layers: [], chainIds: [], manifest: undefined, args: new Map(), cmdSet: false };
    const prior = done.get(ref.toLowerCase());
    if (prior) return { ...prior, args: new Map(), cmdSet: false };
    let img: Image;
    try {
      img = this.images.resolve(ref);
    } catch (e) {
      // As docker: a base image missing here is pulled.
      try {
        const { pullImage } = await import('../registry/pull');
        img = await pullImage(this.images, { ref });
      } catch (pullError) {
        throw new DockerfileError(ins.line, `${(e as Error).message}; pulling it failed too: ${(pullError as Error).message}`);
      }
    }
    return { config: JSON.parse(JSON.stringify(img.config)) as ImageConfig, layers: [...img.layers], chainIds: [...img.chainIds], manifest: img.manifestDigest, args: new Map(), cmdSet: false };
  }

  private cache(): Record<string, string> {
    return readJson<Record<string, string>>(this.cacheFile) ?? {};
  }

  private remember(key: string, manifest: string): void {
    withLock(path.join(this.images.paths.images, 'index.lock'), () => {
      const c = this.cache();
      c[key] = manifest;
      writeJsonAtomic(this.cacheFile, c);
    });
  }

  private async step(ins: Instruction, state: State, context: BuildContext, req: BuildRequest, done: Map<string, State>, emit: (e: BuildEvent) => void): Promise<State> {
    const env = envMap(state.config.config);
    const vars = new Map([...state.args, ...env]);
    let extra = '';
    if (ins.cmd === 'COPY' || ins.cmd === 'ADD') extra = this.sourceKey(ins, vars, context, done);
    if (ins.cmd === 'RUN') extra = JSON.stringify([...state.args]);
    const key = createHash('sha256').update(JSON.stringify([state.manifest ?? 'scratch', ins.original, ins.heredocs, extra])).digest('hex');
    if (!req.noCache && ins.cmd !== 'ARG') {
      const hit = this.cache()[key];
      if (hit) {
        try {
          const img = this.images.load(hit);
          emit({ type: 'cached' });
          emit({ type: 'result', imageId: img.id });
          return { config: JSON.parse(JSON.stringify(img.config)) as ImageConfig, layers: [...img.layers], chainIds: [...img.chainIds], manifest: hit, args: state.args, cmdSet: state.cmdSet || ins.cmd === 'CMD' };
        } catch {
          /* the cached image was removed: build the step again */
        }
      }
    }
    const next: State = { config: JSON.parse(JSON.stringify(state.config)) as ImageConfig, layers: [...state.layers], chainIds: [...state.chainIds], manifest: state.manifest, args: new Map(state.args), cmdSet: state.cmdSet };
    const cfg = next.config.config;
    const created = new Date().toISOString();
    const nop = (): HistoryEntry => ({ created, created_by: `/bin/sh -c #(nop)  ${ins.original}`, empty_layer: true });
    let history: HistoryEntry = nop();
    if (METADATA_INSTRUCTIONS.has(ins.cmd)) {
      next.cmdSet = applyMetadata(ins, next.config, vars, next.cmdSet);
    } else {
      const shell = cfg.Shell ?? DEFAULT_SHELL;
      switch (ins.cmd) {
        case 'RUN':
          history = { created, created_by: ins.json ? ins.json.join(' ') : `${shell.join(' ')} ${ins.rest}` };
          await this.run(ins, next, emit);
          break;
        case 'COPY':
        case 'ADD':
          history = { created, created_by: `/bin/sh -c #(nop) ${ins.original}` };
          await this.copy(ins, next, vars, context, done, emit);
          break;
        case 'ARG': {
          const [name, def] = ins.rest.includes('=') ? [ins.rest.slice(0, ins.rest.indexOf('=')), ins.rest.slice(ins.rest.indexOf('=') + 1)] : [ins.rest, undefined];
          const v = req.buildArgs[name.trim()] ?? (def !== undefined ? expand(def, vars) : undefined);
          if (v !== undefined) next.args.set(name.trim(), v);
          return next; // ARG leaves no step image, as in docker
        }
        default:
          throw new DockerfileError(ins.line, `unknown instruction: ${ins.cmd}`);
      }
    }
    next.config.created = created;
    next.config.history = [...next.config.history, history];
    const img = this.images.commitImage(next.config, next.layers, undefined, { intermediate: true });
    next.manifest = img.manifestDigest;
    this.remember(key, img.manifestDigest);
    emit({ type: 'result', imageId: img.id });
    return next;
  }

  private sourceKey(ins: Instruction, vars: Map<string, string>, context: BuildContext, done: Map<string, State>): string {
    const words = ins.json ?? ins.rest.split(/\s+/).filter(Boolean);
    const sources = words.slice(0, -1).map((w) => expand(w, vars));
    if (ins.heredocs.length) return JSON.stringify(ins.heredocs);
    if (ins.flags.from) {
      const s = done.get(ins.flags.from.toLowerCase());
      return JSON.stringify([s?.manifest ?? ins.flags.from, sources]);
    }
    const local = sources.filter((src) => !/^https?:\/\//.test(src));
    const files = local.flatMap((src) => context.resolve(src, ins.line));
    return JSON.stringify([context.contentHash(files), sources.filter((src) => /^https?:\/\//.test(src)), ins.flags.chown, ins.flags.chmod]);
  }

  // A directory in snapshot form (RUN's upper dir, COPY's staging dir)
  // becomes the stage's next layer.
  private async appendLayer(st: State, dir: string): Promise<void> {
    const tmp = path.join(this.images.paths.tmp, `layer-${randomBytes(6).toString('hex')}.tar`);
    const layer = await writeLayer(dir, tmp);
    const { descriptor, chainId } = await this.images.snapshots.addLayerFromDir(dir, tmp, layer.diffId, layer.size, st.chainIds[st.chainIds.length - 1]);
    st.layers.push(descriptor);
    st.chainIds.push(chainId);
    st.config.rootfs.diff_ids = [...st.config.rootfs.diff_ids, layer.diffId];
  }

  private async run(ins: Instruction, st: State, emit: (e: BuildEvent) => void): Promise<void> {
    if (!st.manifest) throw new DockerfileError(ins.line, 'RUN needs a shell, and a scratch image has none: COPY one in first, or build FROM an image');
    const cfg = st.config.config;
    let argv = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.rest];
    if (ins.heredocs.length && !ins.json) {
      // RUN <<EOF: the here-document is the script.
      argv = [...(cfg.Shell ?? DEFAULT_SHELL), ins.heredocs.map((h) => h.content).join('\n')];
    }
    const c = await this.containers.create({
      image: st.manifest,
      command: argv,
      entrypoint: '',
      env: [...st.args].map(([k, v]) => `${k}=${v}`),
      workdir: cfg.WorkingDir || undefined,
      user: cfg.User || undefined,
      tty: false,
      openStdin: false,
      host: { NetworkMode: 'none' },
      skipImageVolumes: true,
    });
    const id = c.record.Id;
    emit({ type: 'running', containerId: id });
    try {
      const h = await this.containers.start(c, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
      const drain = (s: Readable | null, stream: 'stdout' | 'stderr') =>
        new Promise<void>((resolve) => {
          if (!s) return resolve();
          s.setEncoding('utf8');
          s.on('data', (text: string) => emit({ type: 'output', stream, text }));
          s.on('end', resolve);
          s.on('error', () => resolve());
        });
      const pumped = Promise.all([drain(h.stdout, 'stdout'), drain(h.stderr, 'stderr')]);
      const exit = await h.exited;
      await pumped;
      if (exit.exitCode !== 0) {
        throw new BerthError(`Dockerfile:${ins.line}: The command '${argv.join(' ')}' returned a non-zero code: ${exit.exitCode}`);
      }
      // The finished container's upper dir is already in snapshot form.
      await this.appendLayer(st, path.join(c.bundle, 'upper'));
    } finally {
      await this.containers.remove(id, true).catch(() => undefined);
      emit({ type: 'removed', containerId: id });
    }
  }

  private lookupIn(chainIds: string[]): (rel: string) => fs.Stats | undefined {
    const dirs = [...chainIds].reverse().map((c) => this.images.snapshots.snapshotDir(c));
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

  private owner(spec: string | undefined, st: State): Owner | undefined {
    if (!spec) return undefined;
    const [u, g] = spec.split(':');
    const read = (file: string) => {
      const found = [...st.chainIds].reverse().map((c) => path.join(this.images.snapshots.snapshotDir(c), file)).find((p) => fs.existsSync(p));
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

  private async copy(ins: Instruction, st: State, vars: Map<string, string>, context: BuildContext, done: Map<string, State>, emit: (e: BuildEvent) => void): Promise<void> {
    const words = ins.json ?? ins.rest.split(/\s+/).filter(Boolean);
    if (words.length < (ins.heredocs.length ? 1 : 2)) throw new DockerfileError(ins.line, `${ins.cmd} requires at least two arguments: ${ins.cmd} SOURCE... DEST`);
    const destWord = expand(words[words.length - 1], vars);
    const sources = ins.heredocs.length ? [] : words.slice(0, -1).map((w) => expand(w, vars));
    const workdir = st.config.config.WorkingDir || '/';
    const destAbs = path.posix.resolve(workdir, destWord);
    const destIsDir = destWord.endsWith('/') || sources.length > 1;
    const opts: CopyOptions = { owner: this.owner(ins.flags.chown, st) ?? { uid: 0, gid: 0 } };
    if (ins.flags.chmod) {
      if (!/^[0-7]{3,4}$/.test(ins.flags.chmod)) throw new DockerfileError(ins.line, `invalid --chmod=${ins.flags.chmod}: use an octal mode such as 755`);
      opts.mode = parseInt(ins.flags.chmod, 8);
    }
    const stage = path.join(this.images.paths.tmp, `copy-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(stage, { recursive: true });
    fs.chmodSync(stage, 0o755);
    const lookup = this.lookupIn(st.chainIds);
    const rel = (abs: string) => abs.replace(/^\/+/, '');
    const target = (name: string) => {
      const t = destIsDir || (fs.existsSync(path.join(stage, rel(destAbs))) && fs.statSync(path.join(stage, rel(destAbs))).isDirectory()) ? path.posix.join(destAbs, name) : destAbs;
      ensureParents(stage, `${rel(t)}`, lookup);
      return path.join(stage, rel(t));
    };
    try {
      for (const h of ins.heredocs) {
        const file = target(path.posix.basename(destWord.endsWith('/') ? h.name : destWord));
        fs.writeFileSync(file, h.expand ? expand(h.content, vars) : h.content);
        fs.chmodSync(file, opts.mode ?? 0o644);
        fs.lchownSync(file, opts.owner?.uid ?? 0, opts.owner?.gid ?? 0);
      }
      for (const src of sources) {
        if (ins.cmd === 'ADD' && /^https?:\/\//.test(src)) {
          const file = target(path.posix.basename(new URL(src).pathname) || 'download');
          await download(src, file);
          fs.chmodSync(file, opts.mode ?? 0o600);
          continue;
        }
        if (ins.flags.from) {
          const fromState = done.get(ins.flags.from.toLowerCase());
          const chains = fromState ? fromState.chainIds : this.images.resolve(ins.flags.from).chainIds;
          const srcRel = path.posix.normalize(src.replace(/^\/+/, ''));
          // The stage's file as its layers build it up, bottom layer first.
          const present = chains.map((c) => path.join(this.images.snapshots.snapshotDir(c), srcRel)).filter((p) => fs.lstatSync(p, { throwIfNoEntry: false }));
          if (!present.length) throw new DockerfileError(ins.line, `COPY --from=${ins.flags.from} failed: ${src} not found in that stage`);
          const isDir = fs.lstatSync(present[present.length - 1]).isDirectory();
          if (isDir) ensureParents(stage, `${rel(destAbs)}/x`, lookup);
          const dst = isDir ? path.join(stage, rel(destAbs)) : target(path.posix.basename(srcRel));
          for (const p of present) copyTree(p, dst, opts);
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
              const from = path.join(context.dir, childRel);
              const to = path.join(dst, r === '.' ? childRel : childRel.slice(r.length + 1));
              if (fs.lstatSync(from).isDirectory()) {
                if (!fs.existsSync(to)) fs.mkdirSync(to);
                fs.chmodSync(to, opts.mode ?? fs.statSync(from).mode & 0o7777);
                fs.lchownSync(to, opts.owner?.uid ?? 0, opts.owner?.gid ?? 0);
              } else {
                copyTree(from, to, opts);
              }
            }
          } else if (ins.cmd === 'ADD' && looksLikeArchive(abs)) {
            const dst = path.join(stage, rel(destAbs));
            ensureParents(stage, `${rel(destAbs)}/x`, lookup);
            fs.mkdirSync(dst, { recursive: true });
            await extractArchive(abs, dst, (d, t) => emit({ type: 'unpack', name: r, done: d, total: t }));
          } else {
            copyTree(abs, target(path.posix.basename(r)), opts);
          }
        }
      }
      await this.appendLayer(st, stage);
    } finally {
      fs.rmSync(stage, { recursive: true, force: true });
    }
  }
}
