// The ARGs a build has without being told: BuildKit's platform ARGs, and
// SOURCE_DATE_EPOCH, which makes a build reproducible.
import { BerthError } from '../errors';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

// Builds run on this machine for this machine: build and target platforms
// are the same. TARGETVARIANT is empty on amd64 and arm64 (hence the
// ${TARGETVARIANT:+-${TARGETVARIANT}} idiom in Dockerfiles).
export function builtinArgs(): Map<string, string> {
  const arch = ARCH[process.arch] ?? process.arch;
  const variant = process.arch === 'arm' ? 'v7' : '';
  const platform = `linux/${arch}${variant ? `/${variant}` : ''}`;
  const m = new Map<string, string>();
  for (const side of ['BUILD', 'TARGET']) {
    m.set(`${side}PLATFORM`, platform);
    m.set(`${side}OS`, 'linux');
    m.set(`${side}ARCH`, arch);
    m.set(`${side}VARIANT`, variant);
  }
  return m;
}

// SOURCE_DATE_EPOCH from --build-arg, else from the caller's environment:
// whole seconds since 1970.
export function sourceDateEpoch(buildArgs: Record<string, string>, env: NodeJS.ProcessEnv): number | undefined {
  const text = buildArgs.SOURCE_DATE_EPOCH ?? env.SOURCE_DATE_EPOCH;
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,12}$/.test(text)) throw new BerthError(`invalid SOURCE_DATE_EPOCH "${text}": give whole seconds since 1970, e.g. $(git log -1 --format=%ct)`);
  return Number(text);
}
