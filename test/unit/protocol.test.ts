// Pure parts of the engine and the Jupyter protocol: registry names,
// IPv4 subnets, message signing (replays refused), the wire format, the
// execution history, .dockerignore patterns, and the one map from error
// kinds to exit codes and enames.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registryRef } from '../../kernel/engine/registry/names';
import { contains, parseSubnet, toInt, toIp } from '../../kernel/engine/network/ipv4';
import { BuildContext } from '../../kernel/engine/build/context';
import { Signer } from '../../kernel/jupyter/signing';
import { decode, encode } from '../../kernel/jupyter/wire';
import { History } from '../../kernel/jupyter/history';
import { BerthError, CommandStartError, NotFoundError } from '../../kernel/engine';
import { UsageError } from '../../kernel/commands/flags';
import { ENGINE_START, exitCodeFor } from '../../kernel/cli/exit-codes';
import { errorOutcome } from '../../kernel/notebook/outcome';

const made: string[] = [];
function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-unit-'));
  made.push(dir);
  return dir;
}
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

describe('registry names', () => {
  it('puts a bare name on Docker Hub under library/', () => {
    const r = registryRef('busybox');
    assert.deepEqual([r.registry, r.display, r.path, r.tag, r.familiar], ['registry-1.docker.io', 'docker.io', 'library/busybox', 'latest', 'busybox:latest']);
  });
  it('takes a host with a port or a dot as the registry', () => {
    const r = registryRef('localhost:5000/team/app:v1');
    assert.deepEqual([r.registry, r.path, r.tag], ['localhost:5000', 'team/app', 'v1']);
    assert.equal(registryRef('ghcr.io/org/tool@sha256:' + 'a'.repeat(64)).digest, 'sha256:' + 'a'.repeat(64));
    assert.equal(registryRef('team/app').path, 'team/app');
  });
});

describe('ipv4', () => {
  it('parses subnets and tells what they contain', () => {
    const s = parseSubnet('10.77.5.0/24');
    assert.equal(toIp(s.base), '10.77.5.0');
    assert.ok(contains(s, '10.77.5.254'));
    assert.ok(!contains(s, '10.77.6.1'));
    assert.equal(toIp(toInt('172.30.0.1') + 1), '172.30.0.2');
  });
  it('refuses what is not a subnet, saying what to write', () => {
    assert.throws(() => parseSubnet('10.0.0.0/99'), /invalid subnet "10\.0\.0\.0\/99": use CIDR form/);
    assert.throws(() => toInt('300.1.1.1'), /invalid IPv4 address/);
  });
});

describe('message signing and the wire', () => {
  const msg = () => ({
    identities: [Buffer.from('client')],
    header: { msg_id: 'm1', session: 's', username: 'u', date: '2026-01-01T00:00:00Z', msg_type: 'kernel_info_request', version: '5.3' },
    parent_header: {},
    metadata: {},
    content: { a: 1 },
  });

  it('round-trips a signed message, and refuses the same message twice (a replay)', () => {
    const sender = new Signer('secret');
    const receiver = new Signer('secret');
    const frames = encode(msg(), sender);
    const got = decode(frames, receiver);
    assert.deepEqual(got.content, { a: 1 });
    assert.equal(got.header.msg_type, 'kernel_info_request');
    assert.throws(() => decode(frames, receiver), /invalid or replayed signature/);
  });

  it('refuses a message signed with another key, and one without a header', () => {
    assert.throws(() => decode(encode(msg(), new Signer('other')), new Signer('secret')), /invalid or replayed signature/);
    const bad = { ...msg(), header: { msg_id: 'x' } as never };
    assert.throws(() => decode(encode(bad, new Signer('k')), new Signer('k')), /the header has no session/);
  });
});

describe('history', () => {
  it('keeps inputs and outputs across kernel restarts, as sessions', () => {
    const file = path.join(tmp(), 'history.jsonl');
    const first = new History(file);
    first.add(1, '%ps');
    first.add(2, '%images -q');
    first.setOutput(2, 'sha256:abc');
    const second = new History(file);
    assert.equal(second.session, first.session + 1);
    assert.deepEqual(second.range(first.session, 1, 0).map((e) => [e.input, e.output]), [['%ps', undefined], ['%images -q', 'sha256:abc']]);
    assert.deepEqual(second.search('%im*', 10, true).map((e) => e.input), ['%images -q']);
  });
});

describe('.dockerignore', () => {
  it('excludes as docker does: globs, ** at any depth, ! exceptions, later rules win', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, '.dockerignore'), '# comment\n*.log\n**/cache\nsecret/\n!secret/public.txt\n');
    const ctx = new BuildContext(dir);
    assert.ok(ctx.excluded('debug.log'));
    assert.ok(!ctx.excluded('logs/debug.txt'));
    assert.ok(ctx.excluded('a/b/cache/x'));
    assert.ok(ctx.excluded('secret/key'));
    assert.ok(!ctx.excluded('secret/public.txt'));
    assert.ok(!ctx.excluded('src/main.py'));
  });
});

describe('error kinds', () => {
  const from = <E extends BerthError>(e: E, command: string) => Object.assign(e, { command });

  it('become docker exit codes in one place', () => {
    assert.equal(exitCodeFor(new UsageError('unknown flag: --x', 'ps')), 125);
    assert.equal(exitCodeFor(from(new NotFoundError('No such image'), 'run')), 125);
    assert.equal(exitCodeFor(from(new CommandStartError('exec: "x": not found', 'not-found'), 'run')), 127);
    assert.equal(exitCodeFor(from(new CommandStartError('permission denied', 'permission'), 'exec')), 126);
    assert.equal(exitCodeFor(from(new BerthError('You cannot remove a running container', 'conflict'), 'rm')), 1);
    assert.equal(exitCodeFor(from(new NotFoundError('No such container'), 'logs')), 1);
    assert.equal(exitCodeFor(from(new BerthError('the Berth store is writable by every user', 'permission'), ENGINE_START)), 125);
  });

  const ename = (e: BerthError) => {
    const o = errorOutcome(e);
    return o.status === 'error' ? o.ename : '';
  };

  it('become enames in one place', () => {
    assert.equal(ename(from(new NotFoundError('No such container: x'), 'logs')), 'NotFound');
    assert.equal(ename(from(new BerthError('in use', 'conflict'), 'rm')), 'Conflict');
    assert.equal(ename(from(new BerthError('Dockerfile:2: unknown instruction: NOPE'), 'build')), 'BuildError');
    assert.equal(ename(new UsageError('flag needs an argument', 'run')), 'UsageError');
  });
});

describe('the shim status protocol', () => {
  it('reads each event of native/src/shim/status.h, with -1 as not measured', async () => {
    const { parseShimStatus } = await import('../../kernel/engine/containers/shim-status');
    assert.deepEqual(parseShimStatus('started 4242'), { kind: 'started', pid: 4242 });
    assert.deepEqual(parseShimStatus('error 127 exec: "x": executable file not found in $PATH'), { kind: 'error', code: 127, message: 'exec: "x": executable file not found in $PATH' });
    assert.deepEqual(parseShimStatus('exited 137 1 67108864 -1'), { kind: 'exited', exitCode: 137, oomKilled: true, peakBytes: 67108864, cpuNs: -1 });
    assert.equal(parseShimStatus('hello'), undefined);
  });
});
