import { Image } from '../engine';
import { hexOf } from '../engine';
import { ago, humanSize } from './units';
import { Rendered, table } from './table';

// One row per name, with the Go field names docker's --format knows.
export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};
export const IMAGE_TABLE = '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

export function imageRows(images: Image[], noTrunc: boolean): Array<Record<string, string>> {
  const now = Date.now();
  const sorted = [...images].sort((a, b) => b.config.created.localeCompare(a.config.created));
  return sorted.flatMap((img) => {
    const refs = img.refs.length ? img.refs : img.repoDigests?.length ? [...new Set(img.repoDigests.map((d) => `${d.split('@')[0]}:<none>`))] : ['<none>:<none>'];
    return refs.map((ref) => {
      const colon = ref.lastIndexOf(':');
      const repo = ref.slice(0, colon);
      return {
        Containers: 'N/A',
        CreatedAt: new Date(img.config.created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
        CreatedSince: ago(img.config.created, now),
        Digest: img.repoDigests?.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>',
        ID: noTrunc ? img.id : hexOf(img.id).slice(0, 12),
        Repository: repo,
        SharedSize: 'N/A',
        Size: humanSize(img.size),
        Tag: ref.slice(colon + 1),
        UniqueSize: 'N/A',
        VirtualSize: humanSize(img.size),
      };
    });
  });
}

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
