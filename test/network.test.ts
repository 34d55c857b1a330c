// Networking, entirely inside a network namespace this test creates: the
// bridges, veths and traffic never touch the machine's own interfaces, and
// the only addresses used are on Berth's bridges and loopback in there.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cliPath, Result, TestStore, testStore } from './helpers';

let s: TestStore;
const ns = `berth-test-${process.pid}`;

// nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup
// hierarchy, and Berth refuses to run a container it cannot account for.
const enter = () => ['--net=' + `/run/netns/${ns}`, '--', process.execPath, cliPath];

function inNs(args: string[], input = ''): Result {
  const r = spawnSync('nsenter', [...enter(), ...args], { env: s.env, encoding: 'utf8', input, timeout: 60000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function inNsAsync(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const c = spawn('nsenter', [...enter(), ...args], { env: s.env });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function links(): string[] {
  return spawnSync('ip', ['-n', ns, '-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]);
}

before(async () => {
  s = await testStore('network');
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
});
after(async () => {
  try {
    for (const id of s.engine.containers.listIds()) inNs(['rm', '-f', id]);
    await s.cleanup();
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});

describe('networks', () => {
  it('several first runs at once make one default bridge and hand out distinct addresses', async () => {
    const runs = await Promise.all([1, 2, 3, 4].map((i) => inNsAsync(['run', '-d', '--name', `first${i}`, 'busybox', 'sleep', '60'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const bridges = inNs(['network', 'ls']).stdout.split('\n').filter((l) => /\sbridge\s+bridge\s/.test(l));
    assert.equal(bridges.length, 1, inNs(['network', 'ls']).stdout);
    const ips = [1, 2, 3, 4].map((i) => inNs(['inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', `first${i}`]).stdout.trim());
    assert.equal(new Set(ips).size, 4, ips.join(' '));
    inNs(['rm', '-f', 'first1', 'first2', 'first3', 'first4']);
  });

  it('containers on a user-defined network reach each other by name and alias over TCP', () => {
    assert.match(inNs(['network', 'create', 'lab']).stdout, /^[0-9a-f]{64}\n$/);
    const web = inNs(['run', '-d', '--name', 'web', '--network', 'lab', '--network-alias', 'www', 'busybox', 'sh', '-c', 'echo hello-from-web > /index.html; httpd -f -p 80 -h /']);
    assert.equal(web.code, 0, web.stderr);
    const r = inNs(['run', '--rm', '--network', 'lab', 'busybox', 'sh', '-c', 'sleep 0.2; wget -q -O - http://web/index.html; wget -q -O - http://www/index.html; echo ping | nc -w 1 web 80 | head -1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello-from-web\nhello-from-web\nHTTP\/1\.[01] 400/);
  });

  it('writes /etc/hosts and /etc/hostname for each container', () => {
    const r = inNs(['run', '--rm', '--name', 'peek', '--network', 'lab', 'busybox', 'sh', '-c', 'cat /etc/hostname /etc/hosts']);
    assert.match(r.stdout, /^[0-9a-f]{12}\n127\.0\.0\.1\tlocalhost\n/);
    assert.match(r.stdout, /^172\.31\.\d+\.\d+\tweb www [0-9a-f]{12}$/m);
  });

  it('lists, inspects and removes networks with docker\'s columns and clear refusals', () => {
    const ls = inNs(['network', 'ls']).stdout;
    assert.match(ls, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/m);
    assert.match(ls, /^[0-9a-f]{12}\s+lab\s+bridge\s+local$/m);
    assert.match(ls, /^\(host\)\s+host\s+host\s+local$/m);
    const [net] = JSON.parse(inNs(['network', 'inspect', 'lab']).stdout);
    assert.equal(net.Driver, 'bridge');
    assert.equal(Object.values(net.Containers as Record<string, { Name: string }>)[0].Name, 'web');
    const busy = inNs(['network', 'rm', 'lab']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /has active endpoints .* remove those containers first/);
    assert.match(inNs(['network', 'rm', 'bridge']).stderr, /pre-defined network and cannot be removed/);
    assert.match(inNs(['run', '--rm', '--network', 'nosuch', 'busybox', 'true']).stderr, /network nosuch not found; create it with `berth network create nosuch`/);
  });

  it('takes --subnet, --gateway and --ip, and refuses an address in use', () => {
    inNs(['network', 'create', '--subnet', '10.77.5.0/24', '--gateway', '10.77.5.254', 'fixed']);
    const r = inNs(['run', '-d', '--name', 'pinned', '--network', 'fixed', '--ip', '10.77.5.9', 'busybox', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    const out = inNs(['exec', 'pinned', 'sh', '-c', 'ip -4 addr show eth0 | grep inet; ip route | grep default']).stdout;
    assert.match(out, /inet 10\.77\.5\.9\/24/);
    assert.match(out, /default via 10\.77\.5\.254/);
    const dup = inNs(['run', '--rm', '--network', 'fixed', '--ip', '10.77.5.9', 'busybox', 'true']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /address 10\.77\.5\.9 is already in use on network fixed/);
    assert.match(inNs(['network', 'create', '--subnet', '10.77.5.128/25', 'overlap']).stderr, /overlaps an existing Berth network/);
  });

  it('--internal networks have no route out', () => {
    inNs(['network', 'create', '--internal', 'sealed']);
    const out = inNs(['run', '--rm', '--network', 'sealed', 'busybox', 'sh', '-c', 'ip route; ip -4 addr show eth0 | grep -c inet']).stdout;
    assert.doesNotMatch(out, /default/);
    assert.match(out, /dev eth0/);
  });

  it('masquerades outbound traffic of non-internal networks (rules read inside this namespace only)', () => {
    const rules = () => spawnSync('ip', ['netns', 'exec', ns, 'iptables', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' }).stdout;
    const [lab] = JSON.parse(inNs(['network', 'inspect', 'lab']).stdout);
    assert.match(rules(), new RegExp(`-A POSTROUTING -s ${lab.IPAM.Config[0].Subnet.replace(/\./g, '\\.')} ! -o ${lab.Bridge} .*-j MASQUERADE`));
    assert.doesNotMatch(rules(), /berth sealed/, 'an internal network gets no masquerade');
    assert.equal(spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).stdout.trim(), '1');
  });

  it('the default bridge network works, without name resolution (as docker\'s)', () => {
    const r = inNs(['run', '--rm', '--network', 'bridge', 'busybox', 'sh', '-c', 'ip -4 addr show eth0 | grep inet; grep -c web /etc/hosts']);
    assert.match(r.stdout, /inet 172\.30\.0\.\d+\/16/);
    assert.match(r.stdout, /^0$/m);
  });

  it('--network container:NAME shares another container\'s network namespace', () => {
    inNs(['run', '-d', '--name', 'svc', '--network', 'lab', 'busybox', 'sh', '-c', 'echo sidecar-ok > /i.html; httpd -f -p 8081 -h /']);
    const r = inNs(['run', '--rm', '--network', 'container:svc', 'busybox', 'sh', '-c', 'sleep 0.2; wget -q -O - http://127.0.0.1:8081/i.html; ip -4 addr show eth0 | grep -o "inet [0-9.]*"']);
    assert.equal(r.code, 0, r.stderr);
    const [svc] = JSON.parse(inNs(['inspect', 'svc']).stdout);
    assert.equal(r.stdout, `sidecar-ok\ninet ${svc.NetworkSettings.Networks.lab.IPAddress}\n`);
    inNs(['stop', '-t', '0', 'svc']);
    assert.match(inNs(['run', '--rm', '--network', 'container:svc', 'busybox', 'true']).stderr, /cannot join the network of a non-running container: svc/);
    inNs(['rm', '-f', 'svc']);
  });

  it('network connect and disconnect add and remove an interface on a running container', () => {
    inNs(['network', 'create', 'second']);
    inNs(['run', '-d', '--name', 'multi', '--network', 'lab', 'busybox', 'sleep', '60']);
    inNs(['run', '-d', '--name', 'other-side', '--network', 'second', 'busybox', 'sh', '-c', 'echo across > /x; httpd -f -p 80 -h /']);
    assert.match(inNs(['exec', 'multi', 'sh', '-c', 'wget -q -O - http://other-side/x 2>&1; true']).stdout, /bad address|can't connect|resolve/i);
    const c = inNs(['network', 'connect', '--alias', 'multi-alias', 'second', 'multi']);
    assert.equal(c.code, 0, c.stderr);
    const ifs = inNs(['exec', 'multi', 'sh', '-c', 'ls /sys/class/net; ip route | grep -c default']).stdout;
    assert.match(ifs, /eth0\neth1\nlo\n1\n/);
    assert.equal(inNs(['exec', 'multi', 'wget', '-q', '-O', '-', 'http://other-side/x']).stdout, 'across\n');
    assert.match(inNs(['exec', 'other-side', 'cat', '/etc/hosts']).stdout, /\tmulti multi-alias [0-9a-f]{12}$/m);
    assert.match(inNs(['network', 'connect', 'second', 'multi']).stderr, /endpoint with name multi already exists in network second/);
    assert.equal(inNs(['network', 'disconnect', 'second', 'multi']).code, 0);
    assert.equal(inNs(['exec', 'multi', 'ls', '/sys/class/net']).stdout, 'eth0\nlo\n');
    assert.doesNotMatch(inNs(['exec', 'other-side', 'cat', '/etc/hosts']).stdout, /multi/);
    assert.match(inNs(['network', 'disconnect', 'second', 'multi']).stderr, /is not connected to network second/);
    inNs(['rm', '-f', 'multi', 'other-side']);
    assert.equal(inNs(['network', 'rm', 'second']).code, 0);
  });

  it('--network host sees the namespace\'s interfaces; none has only lo', () => {
    const host = inNs(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']).stdout.trim().split(/\s+/).sort();
    assert.deepEqual(host, links().sort());
    assert.ok(host.includes('berth0') && host.includes('lo'));
    assert.equal(inNs(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']).stdout, 'lo\n');
  });

  it('never hands out an address twice under 50 concurrent runs, and frees them all', async () => {
    inNs(['network', 'create', 'crowd']);
    // All 50 hold their address at once (an exited --rm container may
    // rightly hand its address on, so these stay up until the end).
    const runs = await Promise.all(Array.from({ length: 50 }, () => inNsAsync(['run', '-d', '--network', 'crowd', 'busybox', 'sleep', '60'])));
    assert.ok(runs.every((r) => r.code === 0), runs.map((r) => r.stderr).join(''));
    const ids = runs.map((r) => r.stdout.trim());
    const ips = ids.map((id) => inNs(['exec', id, 'sh', '-c', 'ip -4 addr show eth0 | grep -o "inet [0-9.]*"']).stdout.trim());
    assert.equal(new Set(ips).size, 50, `duplicates among ${ips.join(', ')}`);
    const [net] = JSON.parse(inNs(['network', 'inspect', 'crowd']).stdout);
    assert.equal(fs.readdirSync(path.join(s.root, 'networks', net.Id, 'ips')).length, 50);
    await Promise.all(ids.map((id) => inNsAsync(['rm', '-f', id])));
    assert.deepEqual(fs.readdirSync(path.join(s.root, 'networks', net.Id, 'ips')), []);
  });

  it('publishes ports on 127.0.0.1 by default: -p HOST:CONTAINER, -p CONTAINER, -P; port and ps show them', () => {
    const r = inNs(['run', '-d', '--name', 'pub', '-p', '8080:80', '-p', '9000', 'busybox', 'sh', '-c', 'echo published > /index.html; httpd -f -p 80 -h /']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(inNs(['port', 'pub']).stdout, /^80\/tcp -> 127\.0\.0\.1:8080\n9000\/tcp -> 127\.0\.0\.1:\d+\n$/);
    assert.match(inNs(['ps']).stdout, /127\.0\.0\.1:8080->80\/tcp, 127\.0\.0\.1:\d+->9000\/tcp\s+pub$/m);
    // (host busybox wget crashes with -T, so timeout(1) bounds it instead)
    const fetch = (url: string) => spawnSync('ip', ['netns', 'exec', ns, 'timeout', '5', 'busybox', 'wget', '-q', '-O', '-', url], { encoding: 'utf8' });
    let got = '';
    for (let i = 0; i < 20 && !got; i++) got = fetch('http://127.0.0.1:8080/index.html').stdout;
    assert.equal(got, 'published\n');
    // -P publishes the image's EXPOSEd ports on random loopback ports.
    const dir = path.join(s.root, 'exposed');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nEXPOSE 80\nRUN echo via-P > /index.html\nCMD ["httpd", "-f", "-p", "80", "-h", "/"]\n');
    assert.equal(inNs(['build', '-q', '-t', 'exposed', dir]).code, 0);
    inNs(['run', '-d', '--name', 'pub2', '-P', 'exposed']);
    const addr = inNs(['port', 'pub2', '80']).stdout.trim();
    assert.match(addr, /^127\.0\.0\.1:\d+$/);
    got = '';
    for (let i = 0; i < 20 && !got; i++) got = fetch(`http://${addr}/index.html`).stdout;
    assert.equal(got, 'via-P\n');
    const taken = inNs(['run', '--rm', '-p', '8080:80', 'busybox', 'true']);
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /Bind for 127\.0\.0\.1:8080 failed: port is already allocated/);
    // UDP: a datagram to the published port reaches the container, and the
    // reply comes back from that port. Debian's busybox has no UDP server,
    // so the test builds a small static echo server into an image.
    const udpDir = path.join(s.root, 'udpecho');
    fs.mkdirSync(udpDir, { recursive: true });
    fs.writeFileSync(path.join(udpDir, 'udpecho.c'), [
      '#include <netinet/in.h>', '#include <sys/socket.h>', '#include <string.h>',
      'int main(void) { int s = socket(AF_INET, SOCK_DGRAM, 0); struct sockaddr_in a; memset(&a, 0, sizeof a);',
      '  a.sin_family = AF_INET; a.sin_port = htons(5353); bind(s, (struct sockaddr*)&a, sizeof a); char b[2048];',
      '  for (;;) { struct sockaddr_in f; socklen_t l = sizeof f; int n = recvfrom(s, b, sizeof b, 0, (struct sockaddr*)&f, &l);',
      '    if (n > 0) { memcpy(b + n, "-echo", 5); sendto(s, b, n + 5, 0, (struct sockaddr*)&f, l); } } }', '',
    ].join('\n'));
    assert.equal(spawnSync('gcc', ['-static', '-O2', '-o', path.join(udpDir, 'udpecho'), path.join(udpDir, 'udpecho.c')]).status, 0);
    fs.writeFileSync(path.join(udpDir, 'Dockerfile'), 'FROM busybox\nCOPY udpecho /bin/udpecho\nCMD ["/bin/udpecho"]\n');
    assert.equal(inNs(['build', '-q', '-t', 'udpecho', udpDir]).code, 0);
    inNs(['run', '-d', '--name', 'udp', '-p', '5353:5353/udp', 'udpecho']);
    assert.equal(inNs(['port', 'udp']).stdout, '5353/udp -> 127.0.0.1:5353\n');
    const client = "const d=require('dgram').createSocket('udp4');let n=0;const go=()=>{if(n++>20)process.exit(1);d.send('ping',5353,'127.0.0.1')};" +
      "d.on('message',(m)=>{console.log(String(m));process.exit(0)});go();setInterval(go,100);";
    const reply = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', client], { encoding: 'utf8', timeout: 10000 });
    assert.equal(reply.stdout, 'ping-echo\n', reply.stderr);
    inNs(['rm', '-f', 'udp']);
    assert.match(inNs(['run', '--rm', '--network', 'none', '-p', '80', 'busybox', 'true']).stderr, /ports cannot be published with --network none/);
    inNs(['rm', '-f', 'pub', 'pub2']);
    assert.notEqual(fetch('http://127.0.0.1:8080/index.html').status, 0, 'the port closes with the container');
  });

  it('removing containers and networks leaves no veth or bridge behind', () => {
    for (const c of ['web', 'pinned']) inNs(['rm', '-f', c]);
    for (const n of ['lab', 'fixed', 'sealed', 'crowd']) assert.equal(inNs(['network', 'rm', n]).code, 0);
    const left = links().filter((l) => l !== 'lo' && l !== 'berth0');
    assert.deepEqual(left, []);
    assert.ok(!links().some((l) => l.startsWith('vb')));
    assert.match(inNs(['network', 'prune', '-f']).stdout, /^$/);
    const rules = spawnSync('ip', ['netns', 'exec', ns, 'iptables', '-t', 'nat', '-S', 'POSTROUTING'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(rules, /berth (lab|fixed|crowd)/, 'removing a network removes its masquerade rule');
  });
});
