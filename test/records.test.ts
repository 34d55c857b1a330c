// Experiment records from the CLI: `run --record FILE` keeps the output on
// the terminal and appends a record per run; `records` lists and compares.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { TestStore, testStore } from './helpers';

let s: TestStore;
let file: string;

before(async () => {
  s = await testStore('records');
  file = path.join(s.root, 'runs.jsonl');
});
after(async () => {
  await s.cleanup();
});

describe('experiment records from the CLI', () => {
  it('run --record prints as usual and appends one JSON line per run', () => {
    for (const word of ['same', 'same', 'other']) {
      const r = s.berth(['run', '--rm', '--network', 'none', '-m', '32m', '-e', 'LAB=1', '--record', file, 'busybox', 'sh', '-c', `echo ${word}; echo to-stderr >&2`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${word}\n`, 'stdout still reaches the terminal');
      assert.equal(r.stderr, 'to-stderr\n');
    }
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.deepEqual(lines[0].command, ['sh', '-c', 'echo same; echo to-stderr >&2']);
    assert.ok(lines[0].env.includes('LAB=1'));
    assert.equal(lines[0].limits.memory, 32 * 1024 * 1024);
    assert.equal(lines[0].stdoutBytes, 5);
    assert.match(lines[0].stdoutDigest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(lines[0].stdoutDigest, lines[1].stdoutDigest);
    assert.notEqual(lines[1].stdoutDigest, lines[2].stdoutDigest);
    assert.ok(lines[0].peakMemory > 0 && lines[0].wallSeconds > 0);
  });

  it('records lists the runs and compare gives a verdict', () => {
    const list = s.berth(['records', '--file', file]);
    assert.match(list.stdout, /^#\s+STARTED\s+IMAGE ID\s+COMMAND/);
    assert.equal(list.stdout.trim().split('\n').length, 4);
    assert.match(s.berth(['records', '--file', file, 'compare', '1', '2']).stdout, /Runs 1 and 2 are the same experiment/);
    const diff = s.berth(['records', '--file', file, 'compare', 'prev', 'last']).stdout;
    assert.match(diff, /command\s+.*DIFFERENT/);
    assert.match(diff, /Runs 2 and 3 differ/);
  });

  it('keeps records 0600, and compare shows secret values as ***, comparing them all the same', () => {
    const secretFile = path.join(s.root, 'secrets', 'runs.jsonl');
    const envFile = path.join(s.root, 'lab.env');
    fs.writeFileSync(envFile, 'DATASET=file-val-22\n');
    for (const tok of ['tok-aaa-1', 'tok-bbb-2']) {
      const r = s.berth(['run', '--rm', '--network', 'none', '-e', `API_TOKEN=${tok}`, '-e', 'SEED=7', '--env-file', envFile, '--record', secretFile, 'busybox', 'sh', '-c', 'echo ${#API_TOKEN}']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '9\n', 'the container got the value');
    }
    assert.equal(fs.statSync(secretFile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(secretFile)).mode & 0o777, 0o700);
    const cmp = s.berth(['records', '--file', secretFile, 'compare', '1', '2']);
    assert.equal(cmp.code, 0, cmp.stderr);
    assert.doesNotMatch(cmp.stdout, /tok-aaa|tok-bbb|file-val-22/);
    assert.match(cmp.stdout, /API_TOKEN=\*\*\*/);
    assert.match(cmp.stdout, /DATASET=\*\*\*/);
    assert.match(cmp.stdout, /SEED=7/);
    assert.match(cmp.stdout, /env\s.*DIFFERENT/, 'the hidden values still differ');
    // A records file another tool left 0644 is closed on the next append.
    fs.chmodSync(secretFile, 0o644);
    assert.equal(s.berth(['run', '--rm', '--network', 'none', '--record', secretFile, 'busybox', 'true']).code, 0);
    assert.equal(fs.statSync(secretFile).mode & 0o777, 0o600);
  });

  it('bad input gets a clear error', () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['records', '--file', file, 'compare', '1', '9'], 1, /there is no run "9": the file holds runs 1 to 3/],
      [['records', '--file', file, 'compare', '1'], 125, /records compare RUN RUN/],
      [['records', '--file', path.join(s.root, 'none.jsonl')], 1, /no experiment records in .* yet/],
      [['run', '-d', '--record', file, 'busybox', 'true'], 125, /--record keeps the record of a foreground run: leave out -d/],
    ];
    for (const [args, code, msg] of cases) {
      const r = s.berth(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    fs.appendFileSync(file, 'not json\n');
    const r = s.berth(['records', '--file', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 4 is not an experiment record/);
    assert.equal(s.engine.containers.listIds().length, 0, 'the refused -d run made no container');
  });
});
