// docker's inspect shape for an image.
import { Image } from './types';

export function imageInspect(img: Image): Record<string, unknown> {
  return {
    Id: img.id,
    RepoTags: img.refs,
    RepoDigests: img.repoDigests ?? [],
    Created: img.config.created,
    Author: img.config.author ?? '',
    Config: img.config.config,
    Architecture: img.config.architecture,
    Os: img.config.os,
    Size: img.size,
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { ManifestDigest: img.manifestDigest },
  };
}
