// The Dockerfile builder, last of three steps: it walks the typed stages
// and dispatches on each instruction's kind. Each instruction makes a step
// image; a step is taken from the cache when its parent image, its
// instruction, the ARG values it sees and (for COPY and ADD) the content of
// its sources are the same, as in Docker's builder.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BerthError, checkAborted } from '../errors';
import { during, hold } from '../store/leases';
import { ContainerService } from '../containers/service';
import { ImageStore } from '../images/store';
import { HistoryEntry, Image, ImageConfig } from '../images/types';
import { readJson, withLock, writeJsonAtomic } from '../store/files';
import { BuildContext } from './context';
import { copyWords } from './copy-words';
import { Dockerfile, Instruction, Of, parseInstructions, parseOne, Stage } from './instructions';
import { applyMetadata, DEFAULT_SHELL, envMap } from './metadata';
import { DockerfileError } from './parser';
import { BuildNetwork, RunOptions, stepNetwork } from './step-options';
import { ShellLexer } from './shell-lexer';
import { BuildEvent, BuildRequest, emptyConfig, State } from './types';
import { parseReference } from '../images/reference';
import { builtinArgs, sourceDateEpoch } from './build-args';

export type { BuildEvent, BuildRequest } from './types';

// All an image is made of, held in the operation's lease.
function holdImage(img: Image): void {
  hold(img.manifestDigest, img.id, ...img.layers.map((l) => l.digest), ...img.chainIds);
}

interface Run {
  req: BuildRequest;
  context: BuildContext;
  done: Map<string, State>;
  epoch: number | undefined;
  network: BuildNetwork;
  emit: (e: BuildEvent) => void;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class Builder {
  private cacheFile: string;

  constructor(private readonly images: ImageStore, private readonly containers: ContainerService) {
    this.cacheFile = path.join(images.paths.images, 'build-cache.json');
  }

  // The whole build is one operation under one lease: what its steps make
  // is never collected before the result is recorded, and a build stopped
  // by the user or killed leaves nothing the next start does not clean.
  build(req: BuildRequest, emit: (e: BuildEvent) => void): Promise<Image> {
    return during(this.images.paths, 'build', () => this.buildLeased(req, emit));
  }

  private async buildLeased(req: BuildRequest, emit: (e: BuildEvent) => void): Promise<Image> {
    for (const t of req.tags) parseReference(t); // a bad -t fails before any work
    const network = (req.network ?? 'default') as BuildNetwork;
    if (!['default', 'none', 'host'].includes(network)) throw new BerthError(`invalid --network ${network}: a build takes default, none or host`);
    for (const a of req.allow ?? []) if (a !== 'network.host') throw new BerthError(`invalid --allow ${a}: Berth grants only network.host`);
    const here = builtinArgs().get('BUILDPLATFORM')!;
    for (const p of req.platforms ?? []) {
      if (normalPlatform(p) !== normalPlatform(here)) throw new BerthError(`--platform ${p}: Berth builds only for this machine's platform (${here})`);
    }
    const contextDir = path.resolve(req.context);
    const dfPath = req.dockerfile ? path.resolve(req.dockerfile) : path.join(contextDir, 'Dockerfile');
    const context = new BuildContext(contextDir, req.dockerfileText === undefined ? dfPath : undefined);
    let text = req.dockerfileText;
    if (text === undefined) {
      try {
        text = fs.readFileSync(dfPath, 'utf8');
      } catch {
        throw new BerthError(`unable to read the Dockerfile ${dfPath}: no such file; give one with -f`, 'not-found');
      }
    }
    const file = parseInstructions(text);
    for (const s of req.secrets ?? []) {
      if (s.src !== undefined && !fs.existsSync(s.src)) throw new BerthError(`secret ${s.id}: the file ${s.src} does not exist; give --secret id=${s.id},src=FILE`, 'not-found');
    }
    this.images.ensureLayout();
    const epoch = sourceDateEpoch(req.buildArgs, req.env ?? process.env);
    const run: Run = { req, context, done: new Map(), epoch, network, emit };
    const globalArgs = this.metaArgs(file, req);
    let last = file.stages.length - 1;
    if (req.target) {
      last = file.stages.findIndex((s) => s.name === req.target!.toLowerCase());
      if (last < 0) throw new BerthError(`failed to reach build target ${req.target} in Dockerfile: no stage is named so`);
    }
    const total = file.stages.slice(0, last + 1).reduce((n, s) => n + 1 + s.body.length, 0);
    let step = 0;
    let state!: State;
    const stopped = () => checkAborted(req.signal, 'the build');
    for (const st of file.stages.slice(0, last + 1)) {
      stopped();
      emit({ type: 'step', index: ++step, total, text: st.from.original });
      state = await this.from(st, globalArgs, run);
      emit({ type: 'result', imageId: state.manifest ? this.images.load(state.manifest).id : 'scratch' });
      for (const trigger of state.config.config.OnBuild ?? []) {
        const ins = parseOne(trigger, file.escape);
        state = await this.step(ins, state, globalArgs, run);
      }
      if (state.config.config.OnBuild) state.config.config.OnBuild = undefined; // triggers run once, in the child image
      for (const ins of st.body) {
        stopped();
        emit({ type: 'step', index: ++step, total, text: ins.original });
        state = await this.step(ins, state, globalArgs, run);
      }
      if (st.name) run.done.set(st.name, state);
      run.done.set(String(st.index), state);
    }
    stopped();
    // The result: tagged with every -t, or kept as a dangling image.
    const final = { ...state.config, config: { ...state.config.config } };
    if (epoch !== undefined) final.created = new Date(epoch * 1000).toISOString();
    // build --label: on the result only, as docker adds them.
    if (req.labels && Object.keys(req.labels).length) final.config.Labels = { ...(final.config.Labels ?? {}), ...req.labels };
    let image: Image | undefined;
    for (const t of req.tags) image = this.images.commitImage(final, state.layers, t);
    if (!image) image = this.images.commitImage(final, state.layers);
    emit({ type: 'done', image, tags: image.refs.length ? req.tags : [] });
    return image;
  }

  // ARGs before the first FROM: usable in FROM lines, and inherited by a
  // stage's own ARG NAME. The platform ARGs BuildKit predefines come first.
  private metaArgs(file: Dockerfile, req: BuildRequest): Map<string, string> {
    const args = builtinArgs();
    const lex = new ShellLexer({ escape: file.escape });
    for (const a of file.metaArgs) {
      const given = req.buildArgs[a.key];
      if (given !== undefined) args.set(a.key, given);
      else if (a.value !== undefined) args.set(a.key, lex.word(a.value, args));
    }
    return args;
  }

  private async from(st: Stage, globalArgs: Map<string, string>, run: Run): Promise<State> {
    const ins = st.from;
    let ref: string;
    try {
      ref = new ShellLexer({ escape: ins.escape }).word(ins.image, globalArgs);
    } catch (e) {
      throw new DockerfileError(ins.line, (e as Error).message);
    }
    if (!ref) throw new DockerfileError(ins.line, `base name (${ins.image}) should not be blank: give the image, or pass the ARG it names with --build-arg`);
    if (ins.platform !== undefined) {
      // Builds run here, for here: another platform is refused, not ignored.
      const wanted = new ShellLexer({ escape: ins.escape }).word(ins.platform, globalArgs);
      const here = globalArgs.get('BUILDPLATFORM') ?? '';
      if (normalPlatform(wanted) !== normalPlatform(here)) {
        throw new DockerfileError(ins.line, `FROM --platform=${wanted}: Berth builds only for this machine's platform (${here}); drop the flag or use --platform=$BUILDPLATFORM`);
      }
    }
    const fresh = (s: Omit<State, 'args' | 'cmdSet'>): State => ({ ...s, args: new Map(), cmdSet: false });
    if (ref === 'scratch') return fresh({ config: this.baseConfig(run), layers: [], chainIds: [], manifest: undefined });
    const prior = run.done.get(ref.toLowerCase());
    if (prior) return fresh({ config: clone(prior.config), layers: [...prior.layers], chainIds: [...prior.chainIds], manifest: prior.manifest });
    let img: Image;
    const { pullImage } = await import('../registry/pull');
    if (run.req.pull) {
      try {
        img = await pullImage(this.images, { ref, signal: run.req.signal });
      } catch (pullError) {
        if ((pullError as BerthError).kind === 'cancelled') throw pullError;
        throw new DockerfileError(ins.line, `--pull: pulling ${ref} failed: ${(pullError as Error).message}`);
      }
    } else {
      try {
        img = this.images.resolve(ref);
      } catch (e) {
        // As docker: a base image missing here is pulled.
        try {
          img = await pullImage(this.images, { ref, signal: run.req.signal });
        } catch (pullError) {
          if ((pullError as BerthError).kind === 'cancelled') throw pullError;
          throw new DockerfileError(ins.line, `${(e as Error).message}; pulling it failed too: ${(pullError as Error).message}`);
        }
      }
    }
    holdImage(img); // the base stays while the build uses it, whatever an rmi or prune does meanwhile
    return fresh({ config: clone(img.config), layers: [...img.layers], chainIds: [...img.chainIds], manifest: img.manifestDigest });
  }

  private baseConfig(run: Run): ImageConfig {
    const c = emptyConfig();
    if (run.epoch !== undefined) c.created = new Date(run.epoch * 1000).toISOString();
    return c;
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

  // ARG NAME[=default]: a --build-arg wins, then a meta ARG of that name,
  // then the default. ARG leaves no step image, as in docker.
  private arg(ins: Of<'ARG'>, state: State, globalArgs: Map<string, string>, run: Run): State {
    const next = { ...state, args: new Map(state.args) };
    const lex = new ShellLexer({ escape: ins.escape });
    for (const a of ins.args) {
      const vars = new Map([...next.args, ...envMap(state.config.config)]);
      let v: string | undefined = run.req.buildArgs[a.key];
      if (v === undefined && a.value !== undefined) {
        try {
          v = lex.word(a.value, vars);
        } catch (e) {
          throw new DockerfileError(ins.line, (e as Error).message);
        }
      }
      if (v === undefined) v = globalArgs.get(a.key);
      if (v !== undefined) next.args.set(a.key, v);
    }
    return next;
  }

  private stepChains(ref: string, run: Run): string[] | undefined {
    const s = run.done.get(ref.toLowerCase());
    if (s) return s.chainIds;
    try {
      return this.images.resolve(ref).chainIds;
    } catch {
      return undefined;
    }
  }

  private runOptions(run: Run): RunOptions {
    return {
      network: run.network,
      allowHost: (run.req.allow ?? []).includes('network.host'),
      epoch: run.epoch,
      signal: run.req.signal,
      mountEnv: { images: this.images, context: run.context, stageChains: (r) => this.stepChains(r, run), secrets: run.req.secrets ?? [] },
    };
  }

  private async step(ins: Instruction, state: State, globalArgs: Map<string, string>, run: Run): Promise<State> {
    if (ins.kind === 'ARG') return this.arg(ins, state, globalArgs, run);
    if (ins.kind === 'FROM') throw new DockerfileError(ins.line, 'FROM opens a stage; it cannot be a step');
    const vars = new Map([...state.args, ...envMap(state.config.config)]);
    const extra: unknown[] = [[...state.args], run.epoch ?? null];
    if (ins.kind === 'COPY' || ins.kind === 'ADD') extra.push(this.sourceKey(ins, vars, run));
    if (ins.kind === 'RUN') extra.push(stepNetwork(ins, this.runOptions(run)), ins.mounts);
    const key = createHash('sha256').update(JSON.stringify([state.manifest ?? 'scratch', ins.original, 'heredocs' in ins ? ins.heredocs : [], extra])).digest('hex');
    if (!run.req.noCache) {
      const hit = this.cache()[key];
      if (hit) {
        try {
          const img = this.images.load(hit);
          // Held first, then checked whole: a prune that ran before may have
          // taken some of it, and then the step is built again.
          holdImage(img);
          if (!this.whole(img)) throw new Error('partly collected');
          run.emit({ type: 'cached' });
          run.emit({ type: 'result', imageId: img.id });
          return { config: clone(img.config), layers: [...img.layers], chainIds: [...img.chainIds], manifest: hit, args: state.args, cmdSet: state.cmdSet || ins.kind === 'CMD' };
        } catch {
          /* the cached image was removed: build the step again */
        }
      }
    }
    const next: State = { config: clone(state.config), layers: [...state.layers], chainIds: [...state.chainIds], manifest: state.manifest, args: new Map(state.args), cmdSet: state.cmdSet };
    const created = run.epoch !== undefined ? new Date(run.epoch * 1000).toISOString() : new Date().toISOString();
    let history: HistoryEntry = { created, created_by: `/bin/sh -c #(nop)  ${ins.original}`, empty_layer: true };
    switch (ins.kind) {
      case 'RUN': {
        const shell = next.config.config.Shell ?? DEFAULT_SHELL;
        history = { created, created_by: Array.isArray(ins.command) ? ins.command.join(' ') : `${shell.join(' ')} ${ins.command}` };
        // Loaded on the first step that runs: a fully cached build never needs it.
        const { runStep } = await import('./run-step');
        await runStep(this.images, this.containers, ins, next, vars, this.runOptions(run), run.emit);
        break;
      }
      case 'COPY':
      case 'ADD':
        history = { created, created_by: `/bin/sh -c #(nop) ${ins.original}` };
        const { copyStep } = await import('./copy-step');
        await copyStep(this.images, ins, next, vars, run.context, run.done, run.emit, run.epoch);
        break;
      default:
        next.cmdSet = applyMetadata(ins, next.config, vars, next.cmdSet);
    }
    next.config.created = created;
    next.config.history = [...next.config.history, history];
    const img = this.images.commitImage(next.config, next.layers, undefined, { intermediate: true });
    next.manifest = img.manifestDigest;
    this.remember(key, img.manifestDigest);
    run.emit({ type: 'result', imageId: img.id });
    return next;
  }

  // Every blob and snapshot of the image is here (or can be made again from its blob).
  private whole(img: Image): boolean {
    if (!fs.existsSync(this.images.blobPath(img.manifestDigest)) || !fs.existsSync(this.images.blobPath(img.id))) return false;
    return img.chainIds.every((c, i) => fs.existsSync(this.images.snapshots.snapshotDir(c)) || this.images.layerBlob(img.layers[i].digest) !== undefined);
  }

  private sourceKey(ins: Of<'COPY' | 'ADD'>, vars: Map<string, string>, run: Run): string {
    if (ins.heredocs.length) return JSON.stringify([ins.heredocs, vars.size ? [...vars] : []]);
    const { sources, from, chown, chmod } = copyWords(ins, vars);
    if (from !== undefined) {
      const s = run.done.get(from.toLowerCase());
      return JSON.stringify([s?.manifest ?? from, sources, chown, chmod, ins.exclude]);
    }
    const remote = sources.filter((src) => /^https?:\/\//.test(src));
    const files = sources.filter((src) => !/^https?:\/\//.test(src)).flatMap((src) => run.context.resolve(src, ins.line));
    return JSON.stringify([run.context.contentHash(files), remote, chown, chmod, ins.checksum, ins.exclude]);
  }
}

// "linux/amd64", "linux/amd64/v1" and "amd64" name one platform here.
function normalPlatform(p: string): string {
  const parts = p.toLowerCase().split('/');
  const [os, arch, variant] = parts.length === 1 ? ['linux', parts[0], ''] : [parts[0], parts[1], parts[2] ?? ''];
  return `${os}/${arch === 'x86_64' ? 'amd64' : arch === 'aarch64' ? 'arm64' : arch}${variant && variant !== 'v1' ? `/${variant}` : ''}`;
}
