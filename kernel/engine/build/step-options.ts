// How a build's RUN steps run: the network each gets and what their
// mounts may reach. Apart from run-step.ts so the cache key can be made
// without loading the code that runs containers.
import type { Of } from './instructions';
import { DockerfileError } from './parser';
import type { MountEnv } from './run-mounts';

export type BuildNetwork = 'default' | 'none' | 'host';

export interface RunOptions {
  network: BuildNetwork; // build --network
  allowHost: boolean; // build --allow network.host
  mountEnv: MountEnv;
  epoch: number | undefined;
  signal?: AbortSignal; // kills the RUN container when the user stops the build
}

// The network one RUN gets: its own --network, else the build's.
export function stepNetwork(ins: Of<'RUN'>, opts: RunOptions): BuildNetwork {
  const n = ins.network ?? opts.network;
  if (!['default', 'none', 'host'].includes(n)) throw new DockerfileError(ins.line, `invalid RUN --network=${n}: use default, none or host`);
  if (ins.network === 'host' && opts.network !== 'host' && !opts.allowHost) {
    throw new DockerfileError(ins.line, 'RUN --network=host needs the network.host entitlement: build with --allow network.host (or --network host)');
  }
  return n as BuildNetwork;
}
