// What a COPY or ADD names, expanded: needed for the cache key of every
// step, so it lives apart from the (heavier) code that copies.
import type { Of } from './instructions';
import { DockerfileError } from './parser';
import { ShellLexer } from './shell-lexer';

// The sources, destination and flags of a COPY or ADD with ARG and ENV
// values expanded; a here-document's <<NAME word is not a source.
export function copyWords(ins: Of<'COPY' | 'ADD'>, vars: Map<string, string>) {
  const lex = new ShellLexer({ escape: ins.escape });
  const one = (w: string | undefined) => (w === undefined ? undefined : lex.word(w, vars));
  try {
    const words = Array.isArray(ins.args) ? ins.args.map((w) => lex.word(w, vars)) : lex.words(ins.args, vars);
    const dest = words[words.length - 1] ?? '';
    const sources = words.slice(0, -1).filter((w) => !(ins.heredocs.length && /^\d*<<-?/.test(w)));
    return { sources, dest, from: one(ins.from), chown: one(ins.chown), chmod: one(ins.chmod) };
  } catch (e) {
    throw new DockerfileError(ins.line, (e as Error).message);
  }
}
