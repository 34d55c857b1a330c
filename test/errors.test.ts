// Bad input: a clear error that says what to do, docker's exit codes, and
// nothing left behind.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { TestStore, testStore } from './helpers';

let s: TestStore;
before(async () => {
  s = await testStore('errors');
});
after(async () => {
  await s.cleanup();
});

function snapshot() {
  const list = (...p: string[]) => (fs.existsSync(path.join(s.root, ...p)) ? fs.readdirSync(path.join(s.root, ...p)).sort() : []);
  return {
    containers: list('containers'),
    names: list('names'),
    blobs: list('images', 'blobs', 'sha256'),
    // "init" is the store's shared mount-point layer, made once by the first container.
    snapshots: list('snapshots').filter((n) => n !== 'init'),
    // The default bridge network always exists for users; any other counts.
    networks: list('networks').filter((f) => f.endsWith('.json') && !fs.readFileSync(path.join(s.root, 'networks', f), 'utf8').includes('"Name": "bridge"')).length,
    index: fs.existsSync(path.join(s.root, 'images', 'index.json')) ? fs.readFileSync(path.join(s.root, 'images', 'index.json'), 'utf8') : '',
    tmp: list('tmp'),
  };
}

function noStack(text: string) {
  assert.doesNotMatch(text, /\n\s+at .*:\d+:\d+/);
}

describe('bad input', () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ['unknown flag', ['run', '--frobnicate', 'busybox'], 125, /unknown flag: --frobnicate\nSee 'berth run --help'/],
    ['unknown shorthand', ['run', '-Z', 'busybox'], 125, /unknown shorthand flag: 'Z' in -Z/],
    ['unknown image', ['run', 'no-such-image'], 125, /Unable to find image 'no-such-image:latest' locally, and pulling it failed: cannot reach registry registry-1\.docker\.io: only loopback registries are allowed while BERTH_OFFLINE=1/],
    ['malformed memory', ['run', '-m', '12x', 'busybox'], 125, /invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'/],
    ['tiny memory', ['run', '-m', '1k', 'busybox'], 125, /Minimum memory limit allowed is 6MB/],
    ['missing argument', ['run'], 125, /"berth run" requires at least 1 argument/],
    ['flag without value', ['run', '--name'], 125, /flag needs an argument: --name/],
    ['bad name', ['run', '--name', 'no/slash', 'busybox'], 125, /Invalid container name/],
    ['joining a missing container\'s network', ['run', '--network', 'container:other', 'busybox'], 125, /No such container: other/],
    ['unknown network', ['run', '--network', 'nosuch', 'busybox'], 125, /network nosuch not found; create it with `berth network create nosuch`/],
    ['too many cpus', ['run', '--cpus', '999', 'busybox'], 125, /range of CPUs is from 0.01/],
    ['bad image reference', ['run', 'BusyBox'], 125, /invalid reference format: repository name \(.*\) must be lowercase/],
    ['unknown command', ['frob'], 1, /unknown command "frob" for "berth"/],
    ['unknown container', ['logs', 'ghost'], 1, /No such container: ghost/],
    ['stop unknown', ['stop', 'ghost'], 1, /No such container: ghost/],
    ['import missing file', ['import', '/nonexistent.tar', 'x'], 1, /no such file or directory; give the path of a root filesystem tarball/],
  ];
  for (const [what, args, code, message] of cases) {
    it(`${what}: exit ${code} with a clear message, nothing left behind`, () => {
      const before = snapshot();
      const r = s.berth(args);
      assert.equal(r.code, code, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      noStack(r.stderr);
      assert.deepEqual(snapshot(), before);
    });
  }

  // The commands beyond run: image, archive, network and registry commands.
  // @/NAME is a path in the store's directory, known only once it exists.
  const out = (name: string) => `@/${name}`;
  const resolveArgs = (args: string[]) => args.map((a) => (a.startsWith('@/') ? path.join(s.root, a.slice(2)) : a));
  const more: Array<[string, string[], number, RegExp]> = [
    ['tag of a missing image', ['tag', 'ghost', 'x:y'], 1, /Unable to find image 'ghost:latest' locally; pull, build or import it/],
    ['history of a missing image', ['history', 'ghost'], 1, /Unable to find image 'ghost:latest' locally/],
    ['save of a missing image', ['save', '-o', out('ghost.tar'), 'ghost'], 1, /Unable to find image 'ghost:latest' locally/],
    ['load of a missing file', ['load', '-i', out('none.tar')], 1, /open .*none\.tar: no such file or directory/],
    ['export of a missing container', ['export', '-o', out('ghost-fs.tar'), 'ghost'], 1, /No such container: ghost/],
    ['commit of a missing container', ['commit', 'ghost', 'x'], 1, /No such container: ghost/],
    ['diff of a missing container', ['diff', 'ghost'], 1, /No such container: ghost/],
    ['build of a missing context', ['build', out('no-context')], 1, /unable to prepare context: path ".*no-context" not found/],
    ['build with a bad tag', ['build', '-t', 'Bad:Tag', '.'], 125, /invalid reference format: repository name \(.*\) must be lowercase/],
    ['import with a bad --change', ['import', '-c', 'FROBNICATE x', require('./helpers').busyboxTar, 'x'], 1, /invalid --change "FROBNICATE x": unknown instruction: FROBNICATE/],
    ['import with a --change that only builds can use', ['import', '-c', 'RUN true', require('./helpers').busyboxTar, 'x'], 1, /RUN is not supported by --change/],
    ['network create with a bad subnet', ['network', 'create', '--subnet', '10.0.0.0/99', 'x'], 1, /invalid subnet "10\.0\.0\.0\/99"/],
    ['network create with a bad name', ['network', 'create', 'no/slash'], 1, /invalid network name "no\/slash"/],
    ['network create with another driver', ['network', 'create', '-d', 'overlay', 'x'], 1, /driver overlay is not supported/],
    ['network rm of a missing network', ['network', 'rm', 'ghost'], 1, /network ghost not found/],
    ['network connect to a missing network', ['network', 'connect', 'ghost', 'x'], 1, /network ghost not found/],
    ['port of a missing container', ['port', 'ghost'], 1, /No such container: ghost/],
    ['push of a missing image', ['push', 'localhost:5999/none:v1'], 1, /Unable to find image 'localhost:5999\/none:v1' locally/],
    ['pull of a bad reference', ['pull', 'Bad/Name'], 1, /invalid reference format: repository name \(.*\) must be lowercase/],
    ['pull from a registry that is not on loopback', ['pull', 'example.org/x:v1'], 1, /only loopback registries are allowed while BERTH_OFFLINE=1/],
    ['login without credentials', ['login', 'localhost:5999'], 1, /give a username and a password/],
  ];
  for (const [what, args, code, message] of more) {
    it(`${what}: exit ${code} with a clear message, nothing left behind`, () => {
      const before = snapshot();
      const r = s.berth(resolveArgs(args));
      assert.equal(r.code, code, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      noStack(r.stderr);
      assert.deepEqual(snapshot(), before);
      for (const f of ['ghost.tar', 'ghost-fs.tar']) assert.ok(!fs.existsSync(path.join(s.root, f)), `${f} was created`);
    });
  }

  it('refuses to make a bridge in a protected network namespace, leaving nothing behind', () => {
    const before = snapshot();
    const { spawnSync } = require('child_process');
    const r = spawnSync(process.execPath, [require('./helpers').cliPath, 'run', '--rm', 'busybox', 'true'], {
      env: { ...s.env, BERTH_NO_BRIDGES_IN_NETNS: fs.readlinkSync('/proc/self/ns/net') }, encoding: 'utf8',
    });
    assert.equal(r.status, 125);
    assert.match(r.stderr, /refusing to create bridge berth0 in the host's network namespace \(BERTH_NO_BRIDGES_IN_NETNS\)/);
    assert.deepEqual(snapshot(), before);
  });

  it('a failed start leaves no cgroup behind, and --rm leaves no container', () => {
    const before = snapshot();
    assert.equal(s.berth(['run', '--rm', 'busybox', '/bin/nowhere']).code, 127);
    assert.deepEqual(snapshot(), before);
    const cg = fs.readdirSync('/sys/fs/cgroup').flatMap((c) => {
      const d = path.join('/sys/fs/cgroup', c, String(s.env.BERTH_CGROUP_PARENT));
      return fs.existsSync(d) ? fs.readdirSync(d).filter((n) => /^[a-f0-9]{64}$/.test(n)) : [];
    });
    const v2 = path.join('/sys/fs/cgroup', String(s.env.BERTH_CGROUP_PARENT));
    if (fs.existsSync(v2)) cg.push(...fs.readdirSync(v2).filter((n) => /^[a-f0-9]{64}$/.test(n)));
    assert.deepEqual(cg, []);
  });

  it('a container whose command is missing stays "Created" with exit code 127, as docker shows', () => {
    s.berth(['run', '--name', 'broken', 'busybox', 'nothing-here']);
    assert.equal(s.berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'broken']).stdout.trim(), 'created 127');
    assert.match(s.berth(['ps', '-a']).stdout, /Created\s+broken/);
  });

  it('prints usage for --help and the command list for no command', () => {
    assert.match(s.berth(['run', '--help']).stdout, /Usage:  berth run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\][\s\S]*-m, --memory bytes/);
    assert.match(s.berth([]).stdout, /Commands:[\s\S]*run /);
  });

  it('runs lines pasted from docker tutorials', () => {
    assert.equal(s.berth(['docker', 'container', 'run', '--rm', 'busybox', 'echo', 'pasted']).stdout, 'pasted\n');
    assert.match(s.berth(['image', 'ls']).stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);
  });
});
