// A stage's or an image's layers as one root for the in-root resolver
// (store/in-root.ts): COPY --from, RUN --mount from= and the image a COPY
// writes into all see their files through it.
import * as fs from 'fs';
import * as path from 'path';
import type { ImageStore } from '../images/store';
import { RootView } from '../store/in-root';

// The layers of a stage or image as one root; an image with no layers yet
// (FROM scratch) is an empty directory.
export function layersView(images: ImageStore, chainIds: string[], top?: string): RootView {
  const dirs = chainIds.map((c) => images.snapshots.snapshotDir(c));
  if (top !== undefined) dirs.push(top);
  if (!dirs.length) {
    const empty = path.join(images.paths.tmp, 'empty-root');
    fs.mkdirSync(empty, { recursive: true, mode: 0o755 });
    dirs.push(empty);
  }
  return new RootView(dirs);
}
