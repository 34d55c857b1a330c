// The cell grammar and the command line a cell becomes: what a user types
// in a notebook, read the way a shell and the docker CLI read it.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CellSyntaxError, commandArgv, isComplete, parseCell, shellWords } from '../../kernel/commands/cell';
import { parseFlags } from '../../kernel/commands/flags';
import { parseMountFlag, parseVolumeFlag } from '../../kernel/commands/mount-flags';
import { createFlags, toCreateRequest } from '../../kernel/commands/run';

describe('cell grammar', () => {
  it('splits words as a POSIX shell does, without expansion', () => {
    assert.deepEqual(shellWords(`run --rm busybox sh -c 'echo "$HOME" a\\ b'`), ['run', '--rm', 'busybox', 'sh', '-c', 'echo "$HOME" a\\ b']);
    assert.deepEqual(shellWords(`echo "a \\"q\\" b" c\\ d`), ['echo', 'a "q" b', 'c d']);
  });

  it('reads %magics, pasted docker lines and continuations, and skips comments', () => {
    const cell = parseCell('# set up\n%run --rm \\\n  busybox true\ndocker ps -a\n\nberth images');
    assert.equal(cell.kind, 'lines');
    if (cell.kind !== 'lines') return;
    assert.deepEqual(cell.lines.map((l) => l.argv), [['run', '--rm', 'busybox', 'true'], ['ps', '-a'], ['images']]);
    assert.deepEqual(commandArgv('!docker run x'), ['run', 'x']);
  });

  it('gives a cell magic its body untouched', () => {
    const cell = parseCell('%%build -t app .\nFROM busybox\nRUN echo "$x"\n');
    assert.deepEqual(cell, { kind: 'cell-magic', name: 'build', argv: ['-t', 'app', '.'], body: 'FROM busybox\nRUN echo "$x"\n' });
  });

  it('refuses prose with a message that says how to write a command', () => {
    assert.throws(() => parseCell('print("hello")'), (e: unknown) => e instanceof CellSyntaxError && /write one command per line/.test((e as Error).message));
  });

  it('answers is_complete as a shell would', () => {
    assert.equal(isComplete('%run --rm \\'), 'incomplete');
    assert.equal(isComplete(`%run busybox echo 'open`), 'incomplete');
    assert.equal(isComplete('%%file x.txt'), 'incomplete');
    assert.equal(isComplete('%ps -a'), 'complete');
    assert.equal(isComplete('hello there'), 'invalid');
  });
});

describe('mount flags', () => {
  it('reads -v as docker does: bind with a host path, a named volume otherwise', () => {
    const bind = parseVolumeFlag('run', '/srv/data:/data:ro', {});
    assert.equal(bind.Type, 'bind');
    assert.equal(bind.Source, '/srv/data');
    assert.equal(bind.Target, '/data');
    assert.equal(bind.ReadOnly, true);
    const vol = parseVolumeFlag('run', 'cache:/cache', {});
    assert.equal(vol.Type, 'volume');
    assert.equal(vol.Source, 'cache');
  });

  it('reads --mount key=value lists and refuses an unknown key', () => {
    const m = parseMountFlag('run', 'type=tmpfs,destination=/scratch');
    assert.equal(m.Type, 'tmpfs');
    assert.equal(m.Target, '/scratch');
    assert.throws(() => parseMountFlag('run', 'type=bind,src=/a,dst=/b,frobnicate=1'), /frobnicate/);
  });
});

describe('the create request', () => {
  const request = (argv: string[]) => toCreateRequest('run', parseFlags('run', createFlags, argv, false), { TOKEN: 's3cret' });

  it('carries limits, environment, ports and the command', () => {
    const r = request(['--rm', '-m', '256m', '--cpus', '0.5', '-e', 'A=1', '-e', 'TOKEN', '-e', 'UNSET', '-p', '8080:80', '--name', 'web', 'busybox', 'sh', '-c', 'true']);
    assert.equal(r.image, 'busybox');
    assert.deepEqual(r.command, ['sh', '-c', 'true']);
    assert.equal(r.name, 'web');
    assert.ok(r.env.includes('A=1'));
    assert.ok(r.env.includes('TOKEN=s3cret'), 'a bare -e NAME takes the value from the user\'s environment');
    assert.ok(!r.env.some((e) => e.startsWith('UNSET')), 'and is left out when the user has none');
    assert.equal(r.host.Memory, 256 * 1024 * 1024);
    assert.equal(r.host.NanoCpus, 0.5e9);
    assert.equal(r.host.AutoRemove, true);
    assert.deepEqual(r.host.PortBindings?.['80/tcp'], [{ HostIp: '127.0.0.1', HostPort: '8080' }]);
  });

  it('refuses a limit docker refuses, before anything runs', () => {
    assert.throws(() => request(['-m', '1k', 'busybox']), /Minimum memory limit allowed is 6MB/);
    assert.throws(() => request(['--memory-swap', '1g', 'busybox']), /set the Memory limit when using Memoryswap/);
  });
});
