// Docker's units, columns and flag grammar, exactly as docker prints them.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { bytesSize, ellipsis, formatG, humanDuration, humanSize, parseBytes } from '../../kernel/render/units';
import { parseFlags } from '../../kernel/commands/flags';
import { renderTemplate } from '../../kernel/render/template';
import { textTable } from '../../kernel/render/table';
import { parseReference } from '../../kernel/engine/images/reference';

describe('units', () => {
  it('sizes as go-units prints them', () => {
    assert.equal(humanSize(99.3e6), '99.3MB');
    assert.equal(humanSize(4261376), '4.26MB');
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(1234), '1.23kB');
    assert.equal(humanSize(999.5e3), '1e+03kB');
    assert.equal(bytesSize(1.5 * 1024 * 1024), '1.5MiB');
    assert.equal(bytesSize(7.7 * 1024 ** 3), '7.7GiB');
    assert.equal(formatG(5, 3), '5');
  });

  it('durations as docker ps shows them', () => {
    assert.equal(humanDuration(400), 'Less than a second');
    assert.equal(humanDuration(1000), '1 second');
    assert.equal(humanDuration(59_000), '59 seconds');
    assert.equal(humanDuration(90_000), 'About a minute');
    assert.equal(humanDuration(5 * 60_000), '5 minutes');
    assert.equal(humanDuration(60 * 60_000), 'About an hour');
    assert.equal(humanDuration(8 * 24 * 3600_000), '8 days');
    assert.equal(humanDuration(3 * 7 * 24 * 3600_000), '3 weeks');
  });

  it('parses memory sizes as docker does', () => {
    assert.equal(parseBytes('32m'), 32 * 1024 * 1024);
    assert.equal(parseBytes('1.5g'), 1.5 * 1024 ** 3);
    assert.equal(parseBytes('512KiB'), 512 * 1024);
    assert.equal(parseBytes('100'), 100);
    assert.equal(parseBytes('12x'), undefined);
  });

  it('truncates with an ellipsis at 20 characters', () => {
    assert.equal(ellipsis('sh -c trap "echo got term"', 20), 'sh -c trap "echo go…');
    assert.equal(ellipsis('short', 20), 'short');
  });

  it('lays out tables like docker tabwriter', () => {
    assert.equal(textTable(['A', 'LONGER HEADER', 'Z'], [['1', '2', '3']]), 'A         LONGER HEADER   Z\n1         2               3\n');
  });
});

describe('flag grammar', () => {
  const specs = [
    { long: 'interactive', short: 'i', kind: 'bool' as const, help: '' },
    { long: 'tty', short: 't', kind: 'bool' as const, help: '' },
    { long: 'memory', short: 'm', kind: 'string' as const, help: '' },
    { long: 'env', short: 'e', kind: 'list' as const, help: '' },
    { long: 'network', aliases: ['net'], kind: 'string' as const, help: '' },
  ];
  it('reads grouped, attached and = forms, and stops at the image', () => {
    const p = parseFlags('run', specs, ['-it', '-m32m', '--env=A=1', '-e', 'B=2', '--net', 'host', 'busybox', 'ls', '-la'], false);
    assert.deepEqual(p.flags, { interactive: true, tty: true, memory: '32m', env: ['A=1', 'B=2'], network: 'host' });
    assert.deepEqual(p.args, ['busybox', 'ls', '-la']);
  });
  it('refuses unknown flags the way docker words it', () => {
    assert.throws(() => parseFlags('run', specs, ['--nope'], false), /unknown flag: --nope\nSee 'berth run --help'/);
    assert.throws(() => parseFlags('run', specs, ['-x'], false), /unknown shorthand flag: 'x' in -x/);
  });
});

describe('inspect templates and references', () => {
  it('renders {{.Field}} and {{json .Field}}', () => {
    const data = { State: { OOMKilled: true, ExitCode: 137 }, Config: { Cmd: ['sh', '-c', 'x'] }, RootFS: { Layers: ['sha256:a'] } };
    assert.equal(renderTemplate('{{.State.OOMKilled}} {{.State.ExitCode}}', data), 'true 137');
    assert.equal(renderTemplate('{{json .RootFS.Layers}}', data), '["sha256:a"]');
    assert.equal(renderTemplate('{{.Config.Cmd}}', data), '[sh -c x]');
  });
  it('renders {{len}}, {{range}}...{{end}} over lists and maps, and refuses what it does not know', () => {
    const data = { Mounts: [{ Type: 'volume', Destination: '/data' }, { Type: 'bind', Destination: '/src' }], Containers: { b: { Name: 'web' }, a: { Name: 'api' } } };
    assert.equal(renderTemplate('{{len .Mounts}} mounts', data), '2 mounts');
    assert.equal(renderTemplate('{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}', data), 'volume:/data bind:/src ');
    assert.equal(renderTemplate('{{range .Containers}}{{.Name}},{{end}}', data), 'api,web,');
    assert.throws(() => renderTemplate('{{range .Mounts}}x', data), /\{\{range\}\} without \{\{end\}\}/);
    assert.throws(() => renderTemplate('{{frobnicate .Mounts}}', data), /function "frobnicate" not defined/);
    assert.equal(renderTemplate('{{printf "%s=%d" "n" (len .Mounts)}}', data), 'n=2');
  });
  it('parses references with registry, port, tag and digest', () => {
    assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox', repository: 'busybox', tag: 'latest', explicitTag: false, digest: undefined });
    assert.equal(parseReference('localhost:5000/team/app:v1').repository, 'localhost:5000/team/app');
    assert.equal(parseReference('localhost:5000/team/app:v1').tag, 'v1');
  });
});

describe('a container\'s resolv.conf', () => {
  const { containerResolvConf } = require('../../kernel/engine/containers/create') as typeof import('../../kernel/engine/containers/create');
  it('keeps the host\'s reachable nameservers and search lines, dropping loopback ones', () => {
    assert.equal(containerResolvConf('search lab\nnameserver 127.0.0.1\nnameserver 10.0.0.2\n', () => undefined), 'search lab\nnameserver 10.0.0.2\n');
  });
  it('takes systemd-resolved\'s upstream servers when the host only has its stub, else docker\'s public fallback', () => {
    assert.equal(containerResolvConf('nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp\n', () => 'nameserver 192.168.1.1\nsearch corp\n'), 'nameserver 192.168.1.1\nsearch corp\n');
    assert.equal(containerResolvConf('nameserver 127.0.0.53\n', () => undefined), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    assert.equal(containerResolvConf('', () => undefined), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
});
