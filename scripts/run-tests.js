#!/usr/bin/env node
// Runs the test files one after another (they share the machine's cgroups
// and namespaces), with the cleanup check last.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const dir = path.join(__dirname, '..', 'dist', 'test');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort();
const cleanup = files.filter((f) => f.startsWith('zz-'));
const ordered = [...files.filter((f) => !f.startsWith('zz-')), ...cleanup].map((f) => path.join(dir, f));
const extra = process.argv.slice(2);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...extra, ...ordered], { stdio: 'inherit' });
process.exit(r.status ?? 1);
