// Device requests as docker's CLI reads them, CDI specs as the CDI
// specification defines them, and nvidia-smi's query output as stats and
// experiment records read it.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseDeviceMapping, parseGpus } from '../../kernel/commands/device-flags';
import { parseSpec } from '../../kernel/engine/devices/cdi-spec';
import { parseQualifiedName } from '../../kernel/engine/devices/cdi-names';
import { gpuEnv, parseAppsQuery, parseGpuQuery, selectGpus } from '../../kernel/engine/devices/nvidia';
import { statsChart, statsTable } from '../../kernel/render/containers';
import type { StatsSample } from '../../kernel/engine';

describe('--device', () => {
  it('reads HOST[:CONTAINER][:PERMISSIONS] as docker does', () => {
    assert.deepEqual(parseDeviceMapping('run', '/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
    assert.deepEqual(parseDeviceMapping('run', '/dev/sda:/dev/xvdc'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvdc', CgroupPermissions: 'rwm' });
    assert.deepEqual(parseDeviceMapping('run', '/dev/sda:r'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'r' });
    assert.deepEqual(parseDeviceMapping('run', '/dev/sda:/dev/xvdc:rw'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvdc', CgroupPermissions: 'rw' });
  });

  it('refuses a bad mode, a relative path and too many fields', () => {
    assert.throws(() => parseDeviceMapping('run', '/dev/sda:/dev/x:rwx'), /invalid device mode: rwx/);
    assert.throws(() => parseDeviceMapping('run', '/dev/sda:/dev/x:rr'), /invalid device mode: rr/);
    assert.throws(() => parseDeviceMapping('run', 'sda'), /host path must be absolute/);
    assert.throws(() => parseDeviceMapping('run', '/dev/sda:xvdc'), /container path must be absolute/);
    assert.throws(() => parseDeviceMapping('run', '/a:/b:r:w'), /invalid argument "\/a:\/b:r:w" for "--device" flag/);
  });
});

describe('--gpus', () => {
  it('reads docker\'s CSV: all, a count, device IDs, capabilities, driver and options', () => {
    assert.deepEqual(parseGpus('run', 'all'), { Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} });
    assert.deepEqual(parseGpus('run', '2'), { Driver: '', Count: 2, DeviceIDs: null, Capabilities: [['gpu']], Options: {} });
    assert.deepEqual(parseGpus('run', '"device=0,2"'), { Driver: '', Count: 0, DeviceIDs: ['0', '2'], Capabilities: [['gpu']], Options: {} });
    assert.deepEqual(parseGpus('run', 'device=GPU-abc'), { Driver: '', Count: 0, DeviceIDs: ['GPU-abc'], Capabilities: [['gpu']], Options: {} });
    assert.deepEqual(parseGpus('run', 'driver=nvidia,"capabilities=compute,utility",count=1'), { Driver: 'nvidia', Count: 1, DeviceIDs: null, Capabilities: [['compute', 'utility', 'gpu']], Options: {} });
    assert.deepEqual(parseGpus('run', 'capabilities=video').Count, 1); // no count and no IDs: one GPU
    assert.deepEqual(parseGpus('run', '"options=a=1,b=2"').Options, { a: '1', b: '2' });
  });

  it('refuses what docker refuses', () => {
    assert.throws(() => parseGpus('run', 'all,all'), /gpu request key 'all' can be specified only once/);
    assert.throws(() => parseGpus('run', 'count=two'), /invalid count \(two\): value must be either "all" or an integer/);
    assert.throws(() => parseGpus('run', 'mem=1'), /unexpected key 'mem' in 'mem=1'/);
    assert.throws(() => parseGpus('run', '"device=0'), /missing " in quoted-field/);
  });

  it('sets NVIDIA_VISIBLE_DEVICES and NVIDIA_DRIVER_CAPABILITIES as docker\'s NVIDIA driver does', () => {
    assert.deepEqual(gpuEnv(parseGpus('run', 'all')), ['NVIDIA_VISIBLE_DEVICES=all']);
    assert.deepEqual(gpuEnv(parseGpus('run', '3')), ['NVIDIA_VISIBLE_DEVICES=0,1,2']);
    assert.deepEqual(gpuEnv(parseGpus('run', '"device=1,3","capabilities=compute,video"')), ['NVIDIA_VISIBLE_DEVICES=1,3', 'NVIDIA_DRIVER_CAPABILITIES=compute,video']);
    assert.throws(() => gpuEnv(parseGpus('run', 'driver=amd')), /could not select device driver "amd"/);
  });
});

describe('CDI specs', () => {
  const good = { cdiVersion: '1.0.0', kind: 'vendor.example/fpga', devices: [{ name: 'card0', containerEdits: { deviceNodes: [{ path: '/dev/fpga0', type: 'c', major: 240, minor: 0 }] } }] };
  const spec = (over: object) => JSON.stringify({ ...good, ...over });

  it('reads YAML and JSON alike', () => {
    const fromJson = parseSpec('/etc/cdi/x.json', JSON.stringify(good));
    const fromYaml = parseSpec('/etc/cdi/x.yaml', 'cdiVersion: 1.0.0\nkind: vendor.example/fpga\ndevices:\n- name: card0\n  containerEdits:\n    deviceNodes:\n    - {path: /dev/fpga0, type: c, major: 240, minor: 0}\n');
    assert.deepEqual(fromYaml.devices, fromJson.devices);
    assert.equal(fromJson.devices[0].containerEdits.deviceNodes[0].major, 240);
  });

  it('refuses unknown fields at every level, naming where', () => {
    assert.throws(() => parseSpec('f', spec({ vendor: 'x' })), /unknown field "vendor"/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { env: ['A=1'] }, extra: 1 }] })), /devices\[0\]: unknown field "extra"/);
    assert.throws(() => parseSpec('f', spec({ containerEdits: { mounts: [{ hostPath: '/a', containerPath: '/b', opts: [] }] } })), /containerEdits\.mounts\[0\]: unknown field "opts"/);
  });

  it('refuses versions it does not know, and says when one is too new', () => {
    assert.throws(() => parseSpec('f', spec({ cdiVersion: '1.2.0' })), /version 1\.2\.0 is newer than this Berth supports \(up to 1\.1\.0\)/);
    assert.throws(() => parseSpec('f', spec({ cdiVersion: '0.2.0' })), /version 0\.2\.0 is not a CDI version/);
    assert.throws(() => parseSpec('f', spec({ cdiVersion: 'one' })), /"one" is not a version/);
    for (const v of ['0.3.0', '0.5.0', '0.8.0', '1.1.0']) assert.equal(parseSpec('f', spec({ cdiVersion: v })).cdiVersion, v);
  });

  it('checks names, types, paths and hooks', () => {
    assert.throws(() => parseSpec('f', spec({ kind: 'noclass' })), /invalid CDI kind "noclass"/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: '-bad', containerEdits: { env: ['A=1'] } }] })), /invalid CDI device name "-bad"/);
    assert.throws(() => parseSpec('f', spec({ devices: [] })), /at least one device/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: {} }] })), /changes nothing/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { env: ['NOVALUE'] } }] })), /"NOVALUE" is not KEY=VALUE/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { deviceNodes: [{ path: 'dev/x' }] } }] })), /not an absolute path/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { deviceNodes: [{ path: '/dev/x', major: -1 }] } }] })), /major: expected a whole number/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { deviceNodes: [{ path: '/dev/x', permissions: 'rx' }] } }] })), /"rx" is not a subset of rwm/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { hooks: [{ hookName: 'prestop', path: '/bin/true' }] } }] })), /"prestop" is not a hook/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { intelRdt: { closID: 'x' } } }] })), /Intel RDT .* not supported/);
    assert.throws(() => parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { env: ['A=1'] } }, { name: 'a', containerEdits: { env: ['A=2'] } }] })), /device "a" is defined twice/);
    const hooks = parseSpec('f', spec({ devices: [{ name: 'a', containerEdits: { hooks: [{ hookName: 'prestart', path: '/bin/true', timeout: 5 }] } }] }));
    assert.equal(hooks.devices[0].containerEdits.hooks[0].hookName, 'createRuntime');
  });

  it('says where YAML breaks', () => {
    assert.throws(() => parseSpec('/etc/cdi/b.yaml', 'cdiVersion: 1.0.0\nkind: a.b/c\ndevices: [\n'), /CDI spec \/etc\/cdi\/b\.yaml: line \d+, column \d+: not valid YAML or JSON/);
    assert.throws(() => parseSpec('f', 'cdiVersion: 1.0.0\ncdiVersion: 1.0.0\n'), /not valid YAML or JSON \(Map keys must be unique/);
  });

  it('reads qualified names with the CDI character rules', () => {
    assert.deepEqual(parseQualifiedName('nvidia.com/gpu=GPU-1a2b:3'), { vendor: 'nvidia.com', class: 'gpu', name: 'GPU-1a2b:3', kind: 'nvidia.com/gpu' });
    assert.throws(() => parseQualifiedName('nvidia.com/gpu'), /not a CDI device name/);
    assert.throws(() => parseQualifiedName('1vendor/gpu=0'), /invalid CDI kind/);
    assert.throws(() => parseQualifiedName('vendor/gpu.x=0'), /invalid CDI kind/);
  });
});

describe('GPU figures', () => {
  const gpuCsv = '0, GPU-aaaa, NVIDIA H100 80GB HBM3, 550.90.07, 37, 2048, 81559\n1, GPU-bbbb, NVIDIA H100 80GB HBM3, 550.90.07, [N/A], 0, 81559\n';
  const appsCsv = 'GPU-aaaa, 4242, 1536\nGPU-aaaa, 77, 512\n';

  it('reads nvidia-smi\'s CSV, unknown figures as unknown', () => {
    const gpus = parseGpuQuery(gpuCsv);
    assert.deepEqual(gpus[0], { index: 0, uuid: 'GPU-aaaa', name: 'NVIDIA H100 80GB HBM3', driver: '550.90.07', utilization: 37, memoryUsed: 2048 * 1048576, memoryTotal: 81559 * 1048576 });
    assert.equal(gpus[1].utilization, null);
    assert.deepEqual(parseAppsQuery(appsCsv)[0], { uuid: 'GPU-aaaa', pid: 4242, memory: 1536 * 1048576 });
  });

  it('picks a container\'s GPUs by index, UUID or all', () => {
    const gpus = parseGpuQuery(gpuCsv);
    assert.deepEqual(selectGpus(gpus, ['nvidia.com/gpu=1']).map((g) => g.index), [1]);
    assert.deepEqual(selectGpus(gpus, ['nvidia.com/gpu=GPU-aaaa', 'example.test/x=1']).map((g) => g.index), [0]);
    assert.deepEqual(selectGpus(gpus, ['nvidia.com/gpu=all']).map((g) => g.index), [0, 1]);
  });

  it('adds GPU columns to stats only when a container has GPUs', () => {
    const base: StatsSample = { id: 'a'.repeat(64), name: 'train', cpuPercent: 1, memoryUsage: 1, memoryLimit: 2, memoryPercent: 50, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 1, raw: {} as StatsSample['raw'] };
    assert.doesNotMatch(statsTable([base], false).text, /GPU/);
    const withGpu = { ...base, gpus: [{ index: 0, uuid: 'GPU-aaaa', name: 'H100', driver: '550', utilization: 37, memoryUsed: 1536 * 1048576, memoryTotal: 80 * 1073741824 }] };
    const text = statsTable([withGpu, { ...base, name: 'other' }], false).text;
    assert.match(text, /GPU %\s+GPU MEM USAGE \/ LIMIT/);
    assert.match(text, /train .* 0: 37%\s+0: 1\.5GiB \/ 80GiB/);
    assert.match(text, /other .* -\s+-\s*$/m);
  });

  it('draws GPU utilisation and memory in the live chart beside CPU and memory', () => {
    const html = statsChart(new Map([['a', { name: 'train', cpu: [50], mem: [10], gpu: new Map([[0, { util: [20, 37], mem: [1, 2] }]]) }]]));
    assert.match(html, /train CPU 50\.0%/);
    assert.match(html, /train GPU0 37\.0%/);
    assert.match(html, /train GPU0 MEM 2\.0%/);
    assert.doesNotMatch(statsChart(new Map([['a', { name: 'cpu-only', cpu: [1], mem: [1], gpu: new Map() }]])), /GPU/);
  });
});
