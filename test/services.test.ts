// A JupyterLab client (@jupyterlab/services) talking to a real
// jupyter_server that runs the Berth kernel: what JupyterLab itself does.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import WebSocket from 'ws';
import { KernelManager, KernelMessage, ServerConnection } from '@jupyterlab/services';
import { TestStore, testStore } from './helpers';
import { JupyterServer, startJupyterServer } from './jupyter-server';

let s: TestStore;
let server: JupyterServer;
let manager: KernelManager;

before(async () => {
  s = await testStore('services');
  const prefix = path.join(s.root, 'jupyter');
  assert.equal(s.berth(['install', '--prefix', prefix]).code, 0);
  server = await startJupyterServer({ ...s.env, JUPYTER_PATH: path.join(prefix, 'share', 'jupyter'), BERTH_HISTORY: path.join(s.root, 'history.jsonl') }, s.root);
  const settings = ServerConnection.makeSettings({
    baseUrl: server.url,
    wsUrl: server.url.replace('http', 'ws'),
    token: server.token,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    appendToken: true,
  });
  manager = new KernelManager({ serverSettings: settings });
  await manager.ready;
});

after(async () => {
  manager?.dispose();
  await server?.stop();
  await s?.cleanup();
});

async function execute(kernel: { requestExecute(c: KernelMessage.IExecuteRequestMsg['content']): { onIOPub: (m: KernelMessage.IIOPubMessage) => void; done: Promise<KernelMessage.IExecuteReplyMsg> } }, code: string) {
  const msgs: KernelMessage.IIOPubMessage[] = [];
  const future = kernel.requestExecute({ code });
  future.onIOPub = (m) => msgs.push(m);
  const reply = await future.done;
  return { reply, msgs };
}

describe('@jupyterlab/services against jupyter_server', () => {
  it('starts a Berth kernel, runs a container and reads its stream and display outputs', async () => {
    const kernel = await manager.startNew({ name: 'berth' });
    try {
      const info = await kernel.info;
      assert.equal(info.implementation, 'berth');
      const { reply, msgs } = await execute(kernel, '%run --rm busybox echo hi');
      assert.equal(reply.content.status, 'ok');
      const streams = msgs.filter((m) => m.header.msg_type === 'stream').map((m) => (m.content as KernelMessage.IStreamMsg['content']).text);
      assert.equal(streams.join(''), 'hi\n');
      const displays = msgs.filter((m) => m.header.msg_type === 'display_data');
      assert.equal(displays.length, 1); // the experiment record
      const data = (displays[0].content as KernelMessage.IDisplayDataMsg['content']).data;
      assert.match(String(data['text/plain']), /exit code\s+0/);
      assert.match(String(data['text/html']), /<table/);
      const table = await execute(kernel, '%images');
      const html = table.msgs.filter((m) => m.header.msg_type === 'display_data').map((m) => (m.content as KernelMessage.IDisplayDataMsg['content']).data['text/html']);
      assert.match(String(html[0]), /<td[^>]*>busybox<\/td>/);
    } finally {
      await kernel.shutdown();
    }
  });
});
