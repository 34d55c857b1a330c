// The Jupyter kernel under real clients: jupyter_client and the
// jupyter_kernel_test conformance suite (Debian packages, Debian's python3).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot, TestStore, testStore } from './helpers';

let s: TestStore;
let jupyterPath: string;
before(async () => {
  s = await testStore('kernel');
  jupyterPath = path.join(s.root, 'jupyter');
  const r = s.berth(['install', '--prefix', jupyterPath]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await s.cleanup();
});

// Runs test/jupyter/MODULE.py with Debian's python3 against this store.
function python(module: string) {
  const r = spawnSync('/usr/bin/python3', ['-m', 'unittest', '-v', module], {
    cwd: path.join(repoRoot, 'test', 'jupyter'),
    env: { ...s.env, JUPYTER_PATH: path.join(jupyterPath, 'share', 'jupyter'), BERTH_HISTORY: path.join(s.root, 'history.jsonl'), PYTHONUNBUFFERED: '1' },
    encoding: 'utf8',
    timeout: 300000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('jupyter kernel', () => {
  it('installs a kernelspec that jupyter finds', () => {
    const spec = JSON.parse(fs.readFileSync(path.join(jupyterPath, 'share', 'jupyter', 'kernels', 'berth', 'kernel.json'), 'utf8'));
    assert.equal(spec.interrupt_mode, 'message');
    assert.deepEqual(spec.argv.slice(-3), ['kernel', '-f', '{connection_file}']);
    const r = spawnSync('/usr/bin/python3', ['-m', 'jupyter_client.kernelspecapp', 'list'], {
      env: { ...s.env, JUPYTER_PATH: path.join(jupyterPath, 'share', 'jupyter') }, encoding: 'utf8',
    });
    assert.match(r.stdout, /berth\s+\S+kernels\/berth/);
  });

  it('runs a notebook of magics top to bottom under nbclient, with secrets kept out of its outputs', () => {
    const { status, out } = python('test_notebook');
    assert.equal(status, 0, out);
    assert.match(out, /Ran 3 tests/);
  });

  it('answers or drops malformed signed messages and lives (deep nesting, null or empty content, headers without ids)', () => {
    const { status, out } = python('test_malformed');
    assert.equal(status, 0, out);
    assert.match(out, /Ran 6 tests/);
  });

  it('stops an interrupted %%build, %pull, %push, %load or %commit within a second, as KeyboardInterrupt, leaving nothing half-made', () => {
    const { status, out } = python('test_interrupts');
    assert.equal(status, 0, out);
    assert.match(out, /Ran 5 tests/);
  });

  it('keeps tar archives out of cells: %save and %export ask for -o, %load -i and %import take paths', () => {
    const { status, out } = python('test_kernel_bytes');
    assert.equal(status, 0, out);
    assert.match(out, /Ran 1 test/);
  });

  it('passes jupyter_client checks and the jupyter_kernel_test suite', () => {
    const { status, out } = python('test_kernel');
    assert.equal(status, 0, out);
    assert.match(out, /Ran \d+ tests/);
    // Berth never sends clear_output (live views update one display); every other check runs.
    const skipped = [...out.matchAll(/^(test_\w+) \(.*\) \.\.\. skipped/gm)].map((m) => m[1]).sort();
    assert.deepEqual(skipped, ['test_clear_output']);
  });
});
