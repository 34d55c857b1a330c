// pull, push, login and logout.
import { BerthError, PullEvent, PushEvent } from '../engine';
import { bytesFrom, textFrom } from './bytes';
import { invalidFlag } from './flags';
import { Command } from './types';

export const pullCommand: Command = {
  name: 'pull',
  usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  flags: [
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Suppress verbose output' },
    { long: 'platform', kind: 'string', help: 'Set platform if server is multi-platform capable (e.g. linux/amd64)' },
    { long: 'tls-verify', kind: 'bool', help: "Verify the registry's certificate (--tls-verify=false skips it: only on a network you trust)" },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    const ref = engine.registry.parse(p.args[0]);
    const quiet = p.flags.quiet === true;
    if (!quiet) io.out(`${ref.digest ? ref.digest : ref.tag}: Pulling from ${ref.display === 'docker.io' ? ref.path : `${ref.display}/${ref.path}`}\n`);
    const progressId = `berth-pull-${Date.now()}`;
    const seen = new Set<string>();
    let upToDate = false;
    const img = await engine.registry.pull({ ref: p.args[0], platform: p.flags.platform as string | undefined, tlsVerify: p.flags['tls-verify'] !== false, signal: io.signal }, (e: PullEvent) => {
      if (e.type === 'done') upToDate = e.upToDate;
      if (e.type === 'note') io.err(`${e.text}\n`);
      if (e.type === 'layer' && e.status === 'downloading') io.progress?.(`${progressId}-${e.digest.slice(7, 19)}`, e.done ?? 0, e.total ?? 1, `${e.digest.slice(7, 19)}: Downloading`);
      if (quiet || e.type !== 'layer' || e.status === 'downloading' || seen.has(`${e.digest}${e.status}`)) return;
      seen.add(`${e.digest}${e.status}`);
      io.out(`${e.digest.slice(7, 19)}: ${e.status === 'exists' ? 'Already exists' : 'Pull complete'}\n`);
    });
    const digest = engine.images.repoDigests(img).pop()?.split('@')[1] ?? '';
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
  flags: [
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Suppress verbose output' },
    { long: 'tls-verify', kind: 'bool', help: "Verify the registry's certificate (--tls-verify=false skips it: only on a network you trust)" },
    { long: 'compression', aliases: ['compression-format'], kind: 'string', value: 'string', help: 'Compress layers with gzip or zstd (zstd needs containerd 1.5, docker 23 or podman 4 to pull)' },
    { long: 'force-compression', kind: 'bool', help: 'Recompress layers kept or pushed in another compression (default true when --compression is given)' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    const compression = p.flags.compression as string | undefined;
    if (compression !== undefined && compression !== 'gzip' && compression !== 'zstd') invalidFlag('push', compression, '--compression', 'choose gzip or zstd');
    const force = p.flags['force-compression'] as boolean | undefined;
    const ref = engine.registry.parse(p.args[0]);
    const quiet = p.flags.quiet === true;
    if (!quiet) io.out(`The push refers to repository [${ref.display}/${ref.path}]\n`);
    await engine.registry.push(p.args[0], { tlsVerify: p.flags['tls-verify'] !== false, compression, forceCompression: force, signal: io.signal }, (e: PushEvent) => {
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
    { long: 'tls-verify', kind: 'bool', help: "Verify the registry's certificate (--tls-verify=false skips it: only on a network you trust)" },
  ],
  maxArgs: 1,
  async run(p, { engine, io }) {
    const server = p.args[0] ?? 'docker.io';
    const username = p.flags.username as string | undefined;
    let password = p.flags.password as string | undefined;
    if (p.flags['password-stdin'] === true) password = (await textFrom(bytesFrom(io, undefined, 'give the password with -p PASSWORD', 'login --password-stdin'))).replace(/\r?\n$/, '');
    if (!username || password === undefined) throw new BerthError('give a username and a password: berth login -u USER --password-stdin SERVER (or -p PASSWORD)');
    const { storedIn, helper } = await engine.registry.login(server, username, password, { tlsVerify: p.flags['tls-verify'] !== false });
    // As docker: a password kept in the file itself is said to be so.
    if (!helper) io.err(`WARNING! Your password will be stored unencrypted in ${storedIn}.\nConfigure a credential helper (credsStore in that file) to remove this warning.\n`);
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
  async run(p, { engine, io }) {
    const { registry, removed } = engine.registry.logout(p.args[0] ?? 'docker.io');
    if (removed) io.out(`Removing login credentials for ${registry}\n`);
    else io.out(`Not logged in to ${registry}\n`);
    return 0;
  },
};
