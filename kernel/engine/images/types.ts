// The image types that cross from the engine to commands and render.
// ImageConfig follows the Docker image config (and OCI's) field for field.

export interface ContainerDefaults {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  OnBuild?: string[];
  Shell?: string[];
}

export interface HistoryEntry {
  created: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  created: string;
  author?: string;
  config: ContainerDefaults;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: HistoryEntry[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Image {
  id: string; // "sha256:<config digest>", docker's image ID
  refs: string[]; // "busybox:latest", ...
  manifestDigest: string;
  config: ImageConfig;
  chainIds: string[]; // bottom layer first
  size: number; // bytes of all layers, uncompressed
  layers: Descriptor[];
  intermediate: boolean; // a build step's image, not shown by `images` without -a
  repoDigests?: string[]; // "repo@sha256:..." as registries know it
}
