// The tutorial notebooks run through nbclient by an unprivileged user, with
// the Berth kernel installed by that user (so it runs rootless, entered by
// berth-shim) on the user's own store.
import * as assert from 'node:assert/strict';
import { SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from '../helpers';

export type RunAs = (argv: string[], env?: Record<string, string>) => SpawnSyncReturns<string>;

// Runs the lessons named ("00", "02"...) as the user; home is the user's own
// directory (written as root here, then given to the user).
export function runNotebooksAs(runAs: RunAs, home: string, uid: number, gid: number, lessons: string[]): string {
  const course = path.join(home, 'course');
  fs.mkdirSync(course);
  fs.cpSync(path.join(repoRoot, 'notebooks'), path.join(course, 'notebooks'), { recursive: true, filter: (src) => !src.includes(`${path.sep}lab`) });
  fs.symlinkSync(path.join(repoRoot, 'images'), path.join(course, 'images'));
  for (const p of [course, ...fs.readdirSync(path.join(course, 'notebooks')).map((f) => path.join(course, 'notebooks', f)), path.join(course, 'notebooks')]) fs.lchownSync(p, uid, gid);
  const cli = path.join(repoRoot, 'dist', 'kernel', 'cli', 'main.js');
  const built = runAs([path.join(repoRoot, 'bin', 'berth'), 'build', '--network', 'none', '-q', '-t', 'busybox:latest', path.join(repoRoot, 'images', 'busybox')]);
  assert.equal(built.status, 0, built.stderr);
  const jupyter = path.join(home, 'jupyter');
  const installed = runAs([process.execPath, cli, 'install', '--prefix', jupyter]);
  assert.equal(installed.status, 0, installed.stderr);
  const spec = JSON.parse(fs.readFileSync(path.join(jupyter, 'share', 'jupyter', 'kernels', 'berth', 'kernel.json'), 'utf8'));
  assert.deepEqual(spec.argv.slice(1, 2), ['enter'], 'a user\'s kernel is entered into the user\'s namespace');
  const r = runAs(['sh', '-c', `cd ${path.join(repoRoot, 'test', 'jupyter')} && exec /usr/bin/python3 -m unittest -v ${lessons.map((n) => `-k test_${n}_`).join(' ')} test_tutorials`], {
    JUPYTER_PATH: path.join(jupyter, 'share', 'jupyter'),
    NOTEBOOK_DIR: path.join(course, 'notebooks'),
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    BERTH_REPORT_DIR: home,
    NODE_OPTIONS: `--report-on-signal --report-signal=SIGUSR2 --report-directory=${home}`,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, new RegExp(`Ran ${lessons.length} tests?\\b`));
  return out;
}
