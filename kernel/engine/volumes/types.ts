// Volume types that cross from the engine to commands and render. Field
// names follow `docker volume inspect`.

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string; // the host directory containers see
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string>;
}

// The label docker puts on volumes made for a VOLUME line or a bare -v /path:
// they go with `rm -v`, `run --rm` and a plain `volume prune`.
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export function isAnonymous(v: VolumeRecord): boolean {
  return ANONYMOUS_LABEL in v.Labels;
}
