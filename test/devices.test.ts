// Devices in containers: --device nodes under the device cgroup, CDI specs
// (nodes, env, mounts, hooks, groups; bad specs refused), and --gpus as it
// resolves to NVIDIA's CDI devices. Run as root here and in the v2 guest,
// and by an unprivileged user (test/rootless.test.ts), where nodes are
// bind-mounted from the host.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { TestStore, testStore } from './helpers';

let s: TestStore;
let specs: string;
let data: string;
let base: string;
const rootless = Boolean(process.env.BERTH_ROOTLESS);
const hasCtk = (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, 'nvidia-ctk')));

before(async () => {
  // The spec directory is this store's own: nothing is written to /etc/cdi.
  base = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'berth-cdi-'));
  fs.chmodSync(base, 0o755);
  specs = path.join(base, 'specs');
  data = path.join(base, 'data');
  fs.mkdirSync(specs);
  fs.mkdirSync(data);
  fs.writeFileSync(path.join(data, 'model.txt'), 'weights from the host\n');
  process.env.BERTH_CDI_SPEC_DIRS = specs;
  s = await testStore('devices');
});
after(async () => {
  await s.cleanup();
  fs.rmSync(base, { recursive: true, force: true });
});

function sh(script: string, extra: string[] = []) {
  return s.berth(['run', '--rm', '--network', 'none', ...extra, 'busybox', 'sh', '-c', script]);
}

function writeSpec(name: string, text: string): void {
  fs.writeFileSync(path.join(specs, name), text);
}

describe('--device', () => {
  it('gives the node at the path asked for, readable, with the host node\'s mode', () => {
    const r = sh('ls -ln /dev/z; head -c 5 /dev/z | wc -c', ['--device', '/dev/zero:/dev/z']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^crw-rw-rw-\s+\d+\s+\d+\s+\d+\s+1,\s+5 .*\/dev\/z$/m);
    assert.match(r.stdout, /^5$/m);
  });

  it('keeps every other device unusable: a node made with mknod cannot be opened', () => {
    // mknod itself may work (docker allows it) or not (rootless); opening never does.
    const r = sh('mknod /tmp/mem c 1 1 2>&1; mknod /tmp/zero c 1 5 2>&1; head -c 1 /tmp/mem 2>&1; head -c 1 /tmp/zero 2>&1; echo end');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /^\0/m);
    assert.match(r.stdout, /head: \/tmp\/(mem|zero): (Operation not permitted|Permission denied|No such file)/);
    assert.match(r.stdout, /end$/m);
  });

  it('enforces the permissions through the device cgroup: r allows reading only', { skip: rootless && 'rootless nodes are the host\'s, under its file permissions' }, () => {
    // /dev/kmsg is outside docker's default list; opening it write-only writes nothing.
    const ro = sh(': > /dev/k && echo opened', ['--device', '/dev/kmsg:/dev/k:r']);
    assert.doesNotMatch(ro.stdout, /opened/);
    assert.match(ro.stderr, /Operation not permitted/);
    const rw = sh(': > /dev/k && echo opened', ['--device', '/dev/kmsg:/dev/k:w']);
    assert.match(rw.stdout, /opened/, rw.stderr);
  });

  it('binds the host node when rootless, and a real node as root', () => {
    const r = sh('grep -c " /dev/z " /proc/self/mountinfo; true', ['--device', '/dev/zero:/dev/z']);
    assert.equal(r.stdout.trim(), rootless ? '1' : '0');
  });

  it('refuses what it cannot give, saying why', () => {
    const missing = sh('true', ['--device', '/dev/berth-no-such-device']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /no such device \/dev\/berth-no-such-device on this host/);
    const outside = sh('true', ['--device', '/dev/zero:/opt/zero']);
    assert.equal(outside.code, 125);
    assert.match(outside.stderr, /not under \/dev/);
    const mode = sh('true', ['--device', '/dev/zero:/dev/z:rwx']);
    assert.equal(mode.code, 125);
    assert.match(mode.stderr, /invalid device mode: rwx/);
    if (rootless) assert.match(sh('true', ['--device', '/dev/zero:/dev/z:r']).stderr, /rootless container cannot limit a device to "r"/);
  });

  it('shows the devices in inspect as docker does', () => {
    const made = s.berth(['create', '--network', 'none', '--device', '/dev/zero:/dev/z:rw', 'busybox']);
    assert.equal(made.code, 0, made.stderr);
    const id = made.stdout.trim();
    const shown = JSON.parse(s.berth(['inspect', '--format', '{{json .HostConfig.Devices}}', id]).stdout);
    assert.deepEqual(shown, [{ PathOnHost: '/dev/zero', PathInContainer: '/dev/z', CgroupPermissions: 'rw' }]);
    assert.equal(s.berth(['inspect', '--format', '{{json .HostConfig.DeviceRequests}}', id]).stdout.trim(), 'null');
    s.berth(['rm', id]);
  });
});

describe('CDI devices', () => {
  before(() => {
    writeSpec('example.yaml', `cdiVersion: "0.6.0"
kind: example.test/dev
containerEdits:
  env: ["EXAMPLE_SPEC=1"]
devices:
  - name: one
    containerEdits:
      env: ["EXAMPLE_DEVICE=one"]
      deviceNodes:
        - path: /dev/example0
          hostPath: /dev/zero
      mounts:
        - hostPath: ${data}
          containerPath: /opt/example
          options: [ro, nosuid, bind]
      hooks:
        - hookName: createContainer
          path: /bin/sh
          args: [sh, -c, 'cat > "$MARKER"']
          env: ["MARKER=${data}/hook-state.json"]
        - hookName: startContainer
          path: /bin/sh
          args: [sh, -c, 'cat > /tmp/start-state.json']
        - hookName: poststop
          path: /bin/sh
          args: [sh, -c, 'cat > "$MARKER"']
          env: ["MARKER=${data}/stop-state.json"]
      additionalGids: [4242]
  - name: two
    containerEdits:
      env: ["EXAMPLE_TWO=2"]
`);
  });

  it('applies the device\'s and the spec\'s edits: env, node, mount, hook with the OCI state, groups', () => {
    const r = s.berth(['run', '--name', 'cdi-one', '--network', 'none', '--device', 'example.test/dev=one', 'busybox', 'sh', '-c',
      'env | grep ^EXAMPLE_ | sort; head -c 3 /dev/example0 | wc -c; cat /opt/example/model.txt; touch /opt/example/x 2>&1; id -G; cat /tmp/start-state.json']);
    try {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^EXAMPLE_DEVICE=one\nEXAMPLE_SPEC=1\n3\nweights from the host\n/);
      assert.match(r.stdout, /Read-only file system/);
      assert.match(r.stdout, /^0( \d+)* 4242( \d+)*$/m);
      const id = s.berth(['inspect', '--format', '{{.Id}}', 'cdi-one']).stdout.trim();
      const state = JSON.parse(fs.readFileSync(path.join(data, 'hook-state.json'), 'utf8'));
      assert.equal(state.id, id);
      assert.equal(state.status, 'creating');
      assert.ok(state.pid > 0);
      // startContainer ran inside: its path and what it wrote are the container's.
      const started = JSON.parse(r.stdout.slice(r.stdout.indexOf('{"ociVersion"')));
      assert.deepEqual([started.id, started.status], [id, 'created']);
      const stopped = JSON.parse(fs.readFileSync(path.join(data, 'stop-state.json'), 'utf8'));
      assert.deepEqual([stopped.id, stopped.status], [id, 'stopped']);
      // The bundle holds the OCI config that hooks read to find the root.
      const spec = JSON.parse(fs.readFileSync(path.join(state.bundle, 'config.json'), 'utf8'));
      assert.match(spec.root.path, new RegExp(`${id}/merged$`));
      const shown = JSON.parse(s.berth(['inspect', '--format', '{{json .HostConfig.DeviceRequests}}', 'cdi-one']).stdout);
      assert.deepEqual(shown, [{ Driver: 'cdi', Count: 0, DeviceIDs: ['example.test/dev=one'], Capabilities: null, Options: {} }]);
    } finally {
      s.berth(['rm', '-f', 'cdi-one']);
    }
  });

  it('takes every device of a kind with =all', () => {
    const r = sh('env | grep ^EXAMPLE_ | sort', ['--device', 'example.test/dev=all']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'EXAMPLE_DEVICE=one\nEXAMPLE_SPEC=1\nEXAMPLE_TWO=2\n');
  });

  it('names the devices there are when one is unknown', () => {
    const r = sh('true', ['--device', 'example.test/dev=three']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /unresolvable CDI device example\.test\/dev=three: kind example\.test\/dev has example\.test\/dev=one, example\.test\/dev=two/);
    const none = sh('true', ['--device', 'nowhere.test/dev=x']);
    assert.match(none.stderr, /no CDI spec for nowhere\.test\/dev/);
  });

  it('refuses a malformed spec, an unknown field and a version too new, naming the file', () => {
    writeSpec('broken.yaml', 'cdiVersion: "0.6.0"\nkind: broken.test/dev\ndevices: [ {name: a\n');
    writeSpec('unknown.json', JSON.stringify({ cdiVersion: '0.6.0', kind: 'unknown.test/dev', devices: [{ name: 'a', containerEdits: { env: ['A=1'], devicez: [] } }] }));
    writeSpec('newer.yaml', 'cdiVersion: "9.0.0"\nkind: newer.test/dev\ndevices:\n  - name: a\n    containerEdits:\n      env: [A=1]\n');
    try {
      const broken = sh('true', ['--device', 'broken.test/dev=a']);
      assert.equal(broken.code, 125);
      assert.match(broken.stderr, /CDI spec .*broken\.yaml: line \d+, column \d+: not valid YAML or JSON/);
      const unknown = sh('true', ['--device', 'unknown.test/dev=a']);
      assert.equal(unknown.code, 125);
      assert.match(unknown.stderr, /unknown\.json: devices\[0\]\.containerEdits: unknown field "devicez"/);
      const newer = sh('true', ['--device', 'newer.test/dev=a']);
      assert.equal(newer.code, 125);
      assert.match(newer.stderr, /newer\.yaml: cdiVersion: version 9\.0\.0 is newer than this Berth supports \(up to 1\.1\.0\)/);
      // The good spec beside them still works.
      assert.equal(sh('echo ok', ['--device', 'example.test/dev=two']).stdout, 'ok\n');
    } finally {
      for (const f of ['broken.yaml', 'unknown.json', 'newer.yaml']) fs.rmSync(path.join(specs, f));
    }
  });

  it('stops the run when a hook fails, with what it printed', () => {
    writeSpec('failing.yaml', `cdiVersion: "1.0.0"
kind: failing.test/dev
devices:
  - name: a
    containerEdits:
      hooks:
        - hookName: createRuntime
          path: /bin/sh
          args: [sh, -c, 'echo the driver is not loaded >&2; exit 3']
`);
    try {
      const r = sh('echo ran', ['--device', 'failing.test/dev=a']);
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.stdout, /ran/);
      assert.match(r.stderr, /createRuntime hook \/bin\/sh exited with status 3: the driver is not loaded/);
    } finally {
      fs.rmSync(path.join(specs, 'failing.yaml'));
    }
  });
});

describe('--gpus', () => {
  it('says what to install when there is no NVIDIA spec and no nvidia-ctk', { skip: hasCtk && 'nvidia-ctk is installed here' }, () => {
    const r = sh('true', ['--gpus', 'all']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /--gpus needs NVIDIA's CDI spec.*install the NVIDIA driver and the NVIDIA Container Toolkit/);
  });

  it('rejects what docker rejects in the --gpus syntax', () => {
    assert.match(sh('true', ['--gpus', 'all,count=2']).stderr, /gpu request key 'count' can be specified only once/);
    assert.match(sh('true', ['--gpus', 'some']).stderr, /invalid count \(some\): value must be either "all" or an integer/);
    assert.match(sh('true', ['--gpus', 'all,memory=1']).stderr, /unexpected key 'memory' in 'memory=1'/);
  });

  describe('with an NVIDIA CDI spec (its nodes stand in for GPUs here)', () => {
    before(() => {
      // The shape nvidia-ctk writes: one device per GPU index and "all".
      writeSpec('nvidia.yaml', `cdiVersion: "0.5.0"
kind: nvidia.com/gpu
devices:
  - name: "0"
    containerEdits:
      deviceNodes: [{path: /dev/nvidia0, hostPath: /dev/null}]
  - name: "1"
    containerEdits:
      deviceNodes: [{path: /dev/nvidia1, hostPath: /dev/zero}]
  - name: all
    containerEdits:
      deviceNodes: [{path: /dev/nvidia0, hostPath: /dev/null}, {path: /dev/nvidia1, hostPath: /dev/zero}]
containerEdits:
  deviceNodes: [{path: /dev/nvidiactl, hostPath: /dev/null}]
`);
    });
    after(() => fs.rmSync(path.join(specs, 'nvidia.yaml')));

    const gpus = (flag: string) => sh('ls /dev | grep nvidia | tr "\\n" " "; echo; env | grep ^NVIDIA_ | sort', ['--gpus', flag]);

    it('--gpus all gives every GPU, with NVIDIA_VISIBLE_DEVICES=all', () => {
      const r = gpus('all');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'nvidia0 nvidia1 nvidiactl \nNVIDIA_VISIBLE_DEVICES=all\n');
    });

    it('--gpus 1 gives the first GPU only', () => {
      assert.equal(gpus('1').stdout, 'nvidia0 nvidiactl \nNVIDIA_VISIBLE_DEVICES=0\n');
      assert.match(gpus('3').stderr, /asks for 3 GPUs, and this host has 2/);
    });

    it('--gpus "device=1" picks by ID, and capabilities= sets NVIDIA_DRIVER_CAPABILITIES', () => {
      assert.equal(gpus('"device=1"').stdout, 'nvidia1 nvidiactl \nNVIDIA_VISIBLE_DEVICES=1\n');
      const caps = gpus('all,"capabilities=compute,utility"');
      assert.equal(caps.stdout, 'nvidia0 nvidia1 nvidiactl \nNVIDIA_DRIVER_CAPABILITIES=compute,utility\nNVIDIA_VISIBLE_DEVICES=all\n');
      assert.match(gpus('"capabilities=teleport"').stderr, /could not select device driver "" with capabilities: \[\["teleport","gpu"\]\]/);
    });

    it('shows DeviceRequests in inspect, and the devices in the experiment record', () => {
      const made = s.berth(['create', '--network', 'none', '--gpus', '2', 'busybox']);
      assert.equal(made.code, 0, made.stderr);
      const id = made.stdout.trim();
      const shown = JSON.parse(s.berth(['inspect', '--format', '{{json .HostConfig.DeviceRequests}}', id]).stdout);
      assert.deepEqual(shown, [{ Driver: '', Count: 2, DeviceIDs: null, Capabilities: [['gpu']], Options: {} }]);
      s.berth(['rm', id]);
      const file = path.join(s.root, 'gpu-records.jsonl');
      const r = s.berth(['run', '--rm', '--network', 'none', '--record', file, '--gpus', '"device=0"', '--device', '/dev/zero:/dev/z', 'busybox', 'true']);
      assert.equal(r.code, 0, r.stderr);
      const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
      assert.deepEqual(rec.devices.cdi, ['nvidia.com/gpu=0']);
      assert.deepEqual(rec.devices.host, ['/dev/zero:/dev/z:rwm']);
    });
  });
});
