// Image references as the docker CLI writes them: [HOST[:PORT]/]PATH[:TAG][@DIGEST].
// Registry defaults (docker.io/library/) come with the registry work; here a
// reference is its familiar name plus a tag.
import { BerthError } from '../errors';

export interface ImageRef {
  repository: string; // "busybox", "localhost:5000/team/app"
  tag: string; // "latest" when none is given
  digest?: string;
}

const component = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const host = '(?:[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*(?::[0-9]+)?/)?';
const refPattern = new RegExp(`^(${host}${component}(?:/${component})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`);

export function parseReference(text: string): ImageRef {
  const m = refPattern.exec(text);
  if (!m) {
    const hint = /[A-Z]/.test(text.split(':')[0]) ? ': repository name must be lowercase' : '';
    throw new BerthError(`invalid reference format${hint}: "${text}"`);
  }
  return { repository: m[1], tag: m[2] ?? 'latest', digest: m[3] };
}

export function formatReference(ref: ImageRef): string {
  return `${ref.repository}:${ref.tag}`;
}
