// The tutorial notebooks, executed top to bottom through nbclient with the
// Berth kernel on a store of their own that holds only the images Berth
// makes offline (busybox, debian:bookworm); the notebooks build the rest.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot, TestStore, testStore } from './helpers';

// BERTH_NOTEBOOKS=03 runs only the lessons named: the cgroup v2 guest runs
// 03, the one that shows limits, since all ten take long under emulation.
const only = (process.env.BERTH_NOTEBOOKS ?? '').split(',').filter(Boolean);

let s: TestStore;
let jupyterPath: string;
let copy: string;

before(async () => {
  s = await testStore('notebooks', { empty: true });
  // The base images as the set-up makes them, from their Dockerfiles.
  for (const [tag, dir] of [['busybox:latest', 'busybox'], ...(only.length ? [] : [['debian:bookworm', 'debian']])]) {
    const built = s.berth(['build', '-q', '-t', tag, path.join(repoRoot, 'images', dir)], { timeoutMs: 120000 });
    assert.equal(built.code, 0, built.stderr);
  }
  jupyterPath = path.join(s.root, 'jupyter');
  assert.equal(s.berth(['install', '--prefix', jupyterPath]).code, 0);
  // A copy of notebooks/ next to a link to images/, as in the repository.
  copy = path.join(s.root, 'course');
  fs.mkdirSync(copy);
  fs.cpSync(path.join(repoRoot, 'notebooks'), path.join(copy, 'notebooks'), { recursive: true, filter: (src) => !src.includes(`${path.sep}lab`) });
  fs.symlinkSync(path.join(repoRoot, 'images'), path.join(copy, 'images'));
});
after(async () => {
  await s.cleanup();
});

function tutorials(selection: string[]): string {
  const r = spawnSync('/usr/bin/python3', ['-m', 'unittest', '-v', ...selection.flatMap((n) => ['-k', `test_${n}_`]), 'test_tutorials'], {
    cwd: path.join(repoRoot, 'test', 'jupyter'),
    // A kernel that hangs is asked for Node's diagnostic report (test_tutorials.py prints it).
    env: { ...s.env, JUPYTER_PATH: path.join(jupyterPath, 'share', 'jupyter'), BERTH_HISTORY: path.join(s.root, 'history.jsonl'), NOTEBOOK_DIR: path.join(copy, 'notebooks'), PYTHONUNBUFFERED: '1', BERTH_REPORT_DIR: s.root, NODE_OPTIONS: `--report-on-signal --report-signal=SIGUSR2 --report-directory=${s.root}` },
    encoding: 'utf8',
    timeout: 900000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  return out;
}

describe('tutorial notebooks', () => {
  it(`lessons ${only.join(', ')} run top to bottom and show what they are about`, { skip: only.length ? false : 'all ten run below' }, () => {
    assert.match(tutorials(only), new RegExp(`Ran ${only.length} tests?\\b`));
  });

  it('all ten, the welcome included, run top to bottom without an error output, and show what each lesson is about', { skip: only.length ? 'only some lessons asked for' : false }, () => {
    const notebooks = fs.readdirSync(path.join(repoRoot, 'notebooks')).filter((f) => /^0[0-9]-.*\.ipynb$/.test(f));
    assert.equal(notebooks.length, 10);
    const out = tutorials([]);
    assert.match(out, /Ran 10 tests/);
  });
});
