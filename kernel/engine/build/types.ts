// What a build is asked for, what it reports, and the state of a stage
// between its steps.
import type { Descriptor, Image, ImageConfig } from '../images/types';
import type { SecretSource } from './run-mounts';

export interface BuildRequest {
  context: string;
  dockerfile?: string; // path, default CONTEXT/Dockerfile
  dockerfileText?: string; // the Dockerfile itself (%%build)
  tags: string[];
  target?: string;
  noCache: boolean;
  buildArgs: Record<string, string>;
  network?: string; // default | none | host: what RUN steps get (default: the bridge)
  allow?: string[]; // entitlements: network.host lets RUN --network=host run
  secrets?: SecretSource[]; // --secret id=NAME,src=FILE: for RUN --mount=type=secret, never in a layer
  env?: NodeJS.ProcessEnv; // the caller's environment (SOURCE_DATE_EPOCH, --secret env=)
  labels?: Record<string, string>; // --label: added to the result's config
  platforms?: string[]; // --platform: only this machine's is possible
  pull?: boolean; // --pull: pull base images even when the store has them
  signal?: AbortSignal; // the user stopped the build: the RUN step is killed, nothing half-made is kept
}

export type BuildEvent =
  | { type: 'step'; index: number; total: number; text: string }
  | { type: 'cached' }
  | { type: 'running'; containerId: string }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'removed'; containerId: string }
  | { type: 'unpack'; name: string; done: number; total: number }
  | { type: 'result'; imageId: string }
  | { type: 'done'; image: Image; tags: string[] };

export interface State {
  config: ImageConfig;
  layers: Descriptor[];
  chainIds: string[];
  manifest: string | undefined; // the step image this state is, the cache's parent key
  args: Map<string, string>;
  cmdSet: boolean; // CMD given in this stage (ENTRYPOINT then keeps it)
}

export function emptyConfig(): ImageConfig {
  return {
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    created: new Date().toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}
