// What a person sees: the classic Notebook UI in headless Chromium runs a
// notebook whose cell is `%ps -a`, and the container table appears as an
// HTML table in the page. A screenshot is kept in test-artifacts/.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { chromium, Browser } from 'playwright-core';
import { repoRoot, TestStore, testStore } from './helpers';
import { JupyterServer, startJupyterServer } from './jupyter-server';

let s: TestStore;
let server: JupyterServer;
let browser: Browser;
const artifacts = path.join(repoRoot, 'test-artifacts');

before(async () => {
  s = await testStore('browser');
  const prefix = path.join(s.root, 'jupyter');
  assert.equal(s.berth(['install', '--prefix', prefix]).code, 0);
  const nbDir = path.join(s.root, 'nb');
  fs.mkdirSync(nbDir);
  const cell = (source: string) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source });
  fs.writeFileSync(path.join(nbDir, 'ps.ipynb'), JSON.stringify({
    nbformat: 4, nbformat_minor: 5,
    metadata: { kernelspec: { name: 'berth', display_name: 'Berth (containers)', language: 'berth' } },
    cells: [cell('%run -d --name browser-demo busybox sleep 120'), cell('%ps -a')],
  }));
  server = await startJupyterServer({ ...s.env, JUPYTER_PATH: path.join(prefix, 'share', 'jupyter'), BERTH_HISTORY: path.join(s.root, 'history.jsonl') }, nbDir, 'notebook');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await s?.cleanup();
});

describe('the Notebook UI in Chromium', () => {
  it('runs %ps -a and renders the container table as HTML', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${server.url}/notebooks/ps.ipynb?token=${server.token}`);
    await page.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { timeout: 30000 });
    // Cell > Run All, as a person would click it.
    await page.click('#celllink');
    await page.click('#run_all_cells a');
    const table = await page.waitForSelector('.output_area table.berth-table', { timeout: 30000 });
    const headers = await table.$$eval('th', (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(headers, ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);
    const cells = await table.$$eval('td', (tds) => tds.map((t) => t.textContent));
    assert.ok(cells.includes('browser-demo'), cells.join(' | '));
    assert.ok(cells.some((c) => /^Up /.test(c ?? '')), cells.join(' | '));
    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'notebook-ps.png'), fullPage: true });
    assert.ok(fs.statSync(path.join(artifacts, 'notebook-ps.png')).size > 10000);
    await page.close();
  });
});
