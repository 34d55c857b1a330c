// Networking benchmarks, run inside a network namespace made for them (no
// traffic leaves it): `run --rm busybox true` on the default bridge against
// --network none, and TCP throughput through a published port against the
// same transfer straight to the container's address.
import * as net from 'net';
import { DETACHED } from '../kernel/engine';
import { benchStore, inOwnNetns, row, stats, time } from './common';

const N = Number(process.env.BENCH_N || 50);
const BYTES = Number(process.env.BENCH_BYTES || 1 << 30);

function send(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20, 7);
    const sock = net.connect(port, host);
    let sent = 0;
    let t0 = 0n;
    const pump = () => {
      while (sent < BYTES) {
        sent += chunk.length;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
      sock.end();
    };
    sock.on('connect', () => {
      t0 = process.hrtime.bigint();
      pump();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(Number(process.hrtime.bigint() - t0) / 1e9));
    sock.resume();
  });
}

async function inner(): Promise<void> {
  const store = await benchStore();
  const c = store.engine.containers;
  const req = (cmd: string[], extra: object = {}) => ({ image: 'busybox', command: cmd, env: [], tty: false, openStdin: false, host: { AutoRemove: true, ...extra } });
  try {
    const none = await time(N, 5, async () => (await c.run(req(['true'], { NetworkMode: 'none' }), { ...DETACHED })).exited);
    const bridge = await time(N, 5, async () => (await c.run(req(['true'], { NetworkMode: 'bridge' }), { ...DETACHED })).exited);
    console.log(`run --rm busybox true, ${N} runs, ms`);
    console.log(row('--network none', none));
    console.log(row('default bridge (veth + address + route)', bridge, `target <= 16 ms (docker 410 ms, podman 446 ms: issue figures); +${(stats(bridge).mean - stats(none).mean).toFixed(2)} ms for the network`));
    // One sink container per transfer. busybox nc drops the connection when
    // its own stdin ends, so it gets a stdin that never does.
    const sink = async (publish: boolean) => {
      const h = await c.run({ ...req(['sh', '-c', 'sleep 3600 | nc -l -p 5001 > /dev/null'], { NetworkMode: 'bridge', AutoRemove: false, PortBindings: publish ? { '5001/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } : {} }) }, { ...DETACHED });
      await new Promise((r) => setTimeout(r, 300));
      const fresh = c.get(h.container.record.Id);
      const ip = Object.values(fresh.record.NetworkSettings!.Networks)[0].IPAddress;
      const port = fresh.shim?.Ports?.[0]?.HostPort;
      return { ip, port, done: () => c.remove(fresh.record.Id, true) };
    };
    const rounds = 3;
    const direct: number[] = [];
    const proxied: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const d = await sink(false);
      direct.push(BYTES / 1e6 / (await send(d.ip, 5001)));
      await d.done();
      const p = await sink(true);
      proxied.push(BYTES / 1e6 / (await send('127.0.0.1', p.port!)));
      await p.done();
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(`TCP throughput, ${(BYTES / 2 ** 20).toFixed(0)} MiB per transfer, ${rounds} rounds, MB/s`);
    console.log(`  direct to the container's address      ${mean(direct).toFixed(0)}`);
    console.log(`  through a published port (127.0.0.1)   ${mean(proxied).toFixed(0)}   ${((mean(proxied) / mean(direct)) * 100).toFixed(0)}% of direct (target >= 80%)`);
  } finally {
    await store.cleanup();
  }
}

inOwnNetns(__filename, inner);
