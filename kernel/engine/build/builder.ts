// The Dockerfile builder. Each instruction makes a step image; a step is
// taken from the cache when its parent image, its instruction and (for COPY
// and ADD) the content of its sources are the same, as in Docker's builder.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { ContainerService } from '../containers/service';
import { ImageStore } from '../images/store';
import { HistoryEntry, Image, ImageConfig } from '../images/types';
import { readJson, withLock, writeJsonAtomic } from '../store/files';
import { BuildContext } from './context';
import { copyStep } from './copy-step';
import { runStep } from './run-step';
import { BuildEvent, BuildRequest, emptyConfig, State } from './types';

import { applyMetadata, DEFAULT_SHELL, envMap, METADATA_INSTRUCTIONS } from './metadata';
import { DockerfileError, expand, Instruction, parseDockerfile } from './parser';
import { parseReference } from '../images/reference';

export type { BuildEvent, BuildRequest } from './types';

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
          await runStep(this.images, this.containers, ins, next, emit);
          break;
        case 'COPY':
        case 'ADD':
          history = { created, created_by: `/bin/sh -c #(nop) ${ins.original}` };
          await copyStep(this.images, ins, next, vars, context, done, emit);
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

}
