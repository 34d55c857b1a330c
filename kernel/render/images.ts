import { Image } from '../engine';
import { hexOf } from '../engine';
import { ago, humanSize } from './units';
import { Rendered, table } from './table';

export function imagesTable(images: Image[], opts: { quiet: boolean; noTrunc: boolean; digests?: boolean }): Rendered {
  const id = (i: Image) => (opts.noTrunc ? i.id : hexOf(i.id).slice(0, 12));
  const sorted = [...images].sort((a, b) => b.config.created.localeCompare(a.config.created));
  if (opts.quiet) return { text: [...new Set(sorted.map(id))].map((x) => x + '\n').join('') };
  const rows: string[][] = [];
  const now = Date.now();
  for (const img of sorted) {
    // An untagged image a registry knows shows its repository, as docker's.
    const refs = img.refs.length ? img.refs : img.repoDigests?.length ? [...new Set(img.repoDigests.map((d) => `${d.split('@')[0]}:<none>`))] : ['<none>:<none>'];
    for (const ref of refs) {
      const colon = ref.lastIndexOf(':');
      const row = [ref.slice(0, colon), ref.slice(colon + 1), id(img), ago(img.config.created, now), humanSize(img.size)];
      if (opts.digests) {
        const repo = ref.slice(0, colon);
        row.splice(2, 0, img.repoDigests?.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>');
      }
      rows.push(row);
    }
  }
  const header = ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
  if (opts.digests) header.splice(2, 0, 'DIGEST');
  return table(header, rows);
}
