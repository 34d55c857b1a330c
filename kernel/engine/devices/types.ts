// Device types that cross from the engine to commands and render, with
// docker's field names (HostConfig.Devices, HostConfig.DeviceRequests).

// --device HOST[:CONTAINER][:PERMISSIONS] for a plain device node.
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string; // a subset of "rwm"
}

// --gpus, and --device VENDOR/CLASS=NAME (docker 25 keeps CDI names as a
// request with Driver "cdi").
export interface DeviceRequest {
  Driver: string; // "" (any GPU driver: NVIDIA's), "nvidia", or "cdi"
  Count: number; // -1 = all; 0 with DeviceIDs
  DeviceIDs: string[] | null;
  Capabilities: string[][] | null;
  Options: Record<string, string>;
}

// A device node as the container gets it.
export interface DeviceNode {
  path: string; // in the container, under /dev
  hostPath: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number; // permission bits
  permissions: string; // what the device cgroup allows: a subset of "rwm"
  uid: number;
  gid: number;
}

export type HookStage = 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface Hook {
  stage: HookStage;
  path: string;
  args: string[];
  env: string[];
  timeout: number; // seconds, 0 = none
}

export interface DeviceMount {
  hostPath: string;
  containerPath: string;
  type: string; // bind | tmpfs
  options: string[];
}

// Everything the container's devices add to it, from --device, CDI specs
// and --gpus together.
export interface DevicePlan {
  nodes: DeviceNode[];
  env: string[];
  mounts: DeviceMount[];
  hooks: Hook[];
  additionalGids: number[];
  cdiDevices: string[]; // qualified names, as resolved
}
