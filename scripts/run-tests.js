#!/usr/bin/env node
// Runs the test files one after another (they share the machine's cgroups),
// with the cleanup check last, inside a network namespace of their own:
// whatever a test does with bridges, veths or ports, the machine's own
// interfaces are out of reach (only loopback is up in there).
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

if (!process.env.BERTH_TEST_NETNS) {
  const r = spawnSync('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    // The machine's own namespace, recorded before leaving it: the engine
    // refuses to make bridges there (see test/helpers.ts).
    env: { ...process.env, BERTH_TEST_NETNS: '1', BERTH_MACHINE_NETNS: fs.readlinkSync('/proc/self/ns/net') },
  });
  process.exit(r.status ?? 1);
}

const dir = path.join(__dirname, '..', 'dist', 'test');
// BERTH_TEST_ONLY=a.test.js,b.test.js runs those files alone (npm run test:crash).
const only = (process.env.BERTH_TEST_ONLY || '').split(',').filter(Boolean);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.test.js') && (!only.length || only.includes(f))).sort();
const cleanup = files.filter((f) => f.startsWith('zz-'));
const ordered = [...files.filter((f) => !f.startsWith('zz-')), ...cleanup].map((f) => path.join(dir, f));
const extra = process.argv.slice(2);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...extra, ...ordered], { stdio: 'inherit' });
process.exit(r.status ?? 1);
