// pull, push, login and logout.
import * as fs from 'fs';
import { BerthError } from '../engine/errors';
import { RegistryClient } from '../engine/registry/client';
import * as creds from '../engine/registry/credentials';
import { registryRef } from '../engine/registry/names';
import { pullImage } from '../engine/registry/pull';
import { pushImage } from '../engine/registry/push';
import { Command } from './types';

export const pullCommand: Command = {
  name: 'pull',
  usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  flags: [
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Suppress verbose output' },
    { long: 'platform', kind: 'string', help: 'Set platform if server is multi-platform capable (e.g. linux/amd64)' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    const ref = registryRef(p.args[0]);
    const quiet = p.flags.quiet === true;
    if (!quiet) io.out(`${ref.digest ? ref.digest : ref.tag}: Pulling from ${ref.display === 'docker.io' ? ref.path : `${ref.display}/${ref.path}`}\n`);
    const progressId = `berth-pull-${Date.now()}`;
    const seen = new Set<string>();
    let upToDate = false;
    const img = await pullImage(engine.images, { ref: p.args[0], platform: p.flags.platform as string | undefined }, (e) => {
      if (e.type === 'done') upToDate = e.upToDate;
      if (e.type === 'layer' && e.status === 'downloading') io.progress?.(`${progressId}-${e.digest.slice(7, 19)}`, e.done ?? 0, e.total ?? 1, `${e.digest.slice(7, 19)}: Downloading`);
      if (quiet || e.type !== 'layer' || e.status === 'downloading' || seen.has(`${e.digest}${e.status}`)) return;
      seen.add(`${e.digest}${e.status}`);
      io.out(`${e.digest.slice(7, 19)}: ${e.status === 'exists' ? 'Already exists' : 'Pull complete'}\n`);
    });
    const digest = engine.images.repoDigests(img.manifestDigest).pop()?.split('@')[1] ?? '';
    const shown = ref.digest ? `${ref.familiar.slice(0, ref.familiar.lastIndexOf(':'))}@${ref.digest}` : ref.familiar;
    if (quiet) io.out(`${shown}\n`);
    else io.out(`Digest: ${digest}\nStatus: ${upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${shown}\n${ref.display === 'docker.io' ? 'docker.io/' : ''}${shown}\n`);
    return 0;
  },
};

export const pushCommand: Command = {
  name: 'push',
  usage: 'push [OPTIONS] NAME[:TAG]',
  summary: 'Upload an image to a registry',
  flags: [{ long: 'quiet', short: 'q', kind: 'bool', help: 'Suppress verbose output' }],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    const ref = registryRef(p.args[0]);
    const quiet = p.flags.quiet === true;
    if (!quiet) io.out(`The push refers to repository [${ref.display}/${ref.path}]\n`);
    await pushImage(engine.images, p.args[0], (e) => {
      if (quiet) return;
      if (e.type === 'layer') io.out(`${e.digest.slice(7, 19)}: ${e.status === 'exists' ? 'Layer already exists' : e.status === 'mounted' ? `Mounted from ${e.from}` : 'Pushed'}\n`);
      else io.out(`${e.tag}: digest: ${e.digest} size: ${e.size}\n`);
    });
    return 0;
  },
};

export const loginCommand: Command = {
  name: 'login',
  usage: 'login [OPTIONS] [SERVER]',
  summary: 'Log in to a registry',
  flags: [
    { long: 'username', short: 'u', kind: 'string', help: 'Username' },
    { long: 'password', short: 'p', kind: 'string', help: 'Password' },
    { long: 'password-stdin', kind: 'bool', help: 'Take the password from stdin' },
  ],
  maxArgs: 1,
  async run(p, { io }) {
    const server = p.args[0] ?? 'docker.io';
    const username = p.flags.username as string | undefined;
    let password = p.flags.password as string | undefined;
    if (p.flags['password-stdin'] === true) password = fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (!username || password === undefined) throw new BerthError('give a username and a password: berth login -u USER --password-stdin SERVER (or -p PASSWORD)', 1);
    const registry = server === 'docker.io' ? 'registry-1.docker.io' : server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const client = new RegistryClient(registry, { username, password });
    const r = await client.request('GET', '/v2/', { scope: '' });
    if (!r.ok) throw new BerthError(`login attempt to ${client.base}/v2/ failed with status: ${r.status} ${r.statusText}`, 1);
    creds.store(server === 'docker.io' ? 'docker.io' : registry, { username, password });
    io.out('Login Succeeded\n');
    return 0;
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  usage: 'logout [SERVER]',
  summary: 'Log out from a registry',
  flags: [],
  maxArgs: 1,
  async run(p, { io }) {
    const server = p.args[0] ?? 'docker.io';
    const registry = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (creds.remove(registry)) io.out(`Removing login credentials for ${registry}\n`);
    else io.out(`Not logged in to ${registry}\n`);
    return 0;
  },
};
