// The Dockerfile grammar and word expansion as BuildKit has them: what a
// user sees differ from docker build when they are wrong (an instruction
// split or joined differently, a value with its quotes left in, a flag
// silently ignored).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Instruction, parseInstructions, parseOne } from '../../kernel/engine/build/instructions';
import { heredocBody, parseDockerfile, parseHeredoc } from '../../kernel/engine/build/parser';
import { ShellLexer } from '../../kernel/engine/build/shell-lexer';
import { applyMetadata } from '../../kernel/engine/build/metadata';
import { parseMount } from '../../kernel/engine/build/run-mounts';
import type { ContainerDefaults } from '../../kernel/engine/images/types';

const body = (text: string): Instruction[] => parseInstructions(`FROM busybox\n${text}`).stages[0].body;
const env = (o: Record<string, string>) => new Map(Object.entries(o));
const word = (text: string, vars: Record<string, string> = {}) => new ShellLexer().word(text, env(vars));
const words = (text: string, vars: Record<string, string> = {}) => new ShellLexer().words(text, env(vars));

// The config a list of instructions gives, as the builder applies them.
function configOf(text: string, vars: Record<string, string> = {}): ContainerDefaults {
  const image = { config: {} as ContainerDefaults };
  for (const ins of body(text)) applyMetadata(ins, image, env(vars), false);
  return image.config;
}

describe('Dockerfile parsing', () => {
  it('LABEL in the old KEY VALUE form works, with the rest of the line as the value', () => {
    assert.deepEqual(configOf('LABEL maintainer "Ann Lee"\n').Labels, { maintainer: 'Ann Lee' });
    assert.deepEqual(configOf('LABEL a=1 "b c"="d e"\n').Labels, { a: '1', 'b c': 'd e' });
  });

  it('a blank or comment line inside a continuation does not end the instruction', () => {
    const [run] = body('RUN echo a \\\n\n  # a comment\n  && echo b\n');
    assert.equal(run.kind, 'RUN');
    assert.equal(run.kind === 'RUN' && run.command, 'echo a   && echo b');
    assert.equal(body('RUN echo a \\\n\nRUN echo b\n').length, 1);
  });

  it('a doubled escape at the end of a line is a literal backslash, not a continuation', () => {
    const ins = body('RUN echo a\\\\\nRUN echo b\n');
    assert.equal(ins.length, 2);
    assert.equal(ins[0].kind === 'RUN' && ins[0].command, 'echo a\\\\');
  });

  it('the escape directive changes the continuation character', () => {
    const f = parseDockerfile('# escape=`\nFROM busybox\nRUN echo a `\n  b\n');
    assert.equal(f.escape, '`');
    assert.equal(f.nodes[1].args, 'echo a   b');
  });

  it('old-form ENV gets quote and escape processing; \\\' inside double quotes keeps its backslash', () => {
    assert.deepEqual(configOf('ENV GREETING "hello world"\n').Env, ['GREETING=hello world']);
    assert.deepEqual(configOf("ENV A \"it\\'s\"\n").Env, ["A=it\\'s"]);
    assert.deepEqual(configOf('ENV B="say \\"hi\\""\n').Env, ['B=say "hi"']);
    assert.deepEqual(configOf('ENV C=a\\ b\n').Env, ['C=a b']);
  });

  it('ARG a b=c defines two ARGs', () => {
    const [arg] = body('ARG a b=c\n');
    assert.equal(arg.kind, 'ARG');
    assert.deepEqual(arg.kind === 'ARG' && arg.args, [{ key: 'a', value: undefined }, { key: 'b', value: 'c' }]);
  });

  it('ENV with a name and no value is an error', () => {
    assert.throws(() => body('ENV PATH\n'), /Dockerfile:2: ENV must have two arguments/);
    assert.throws(() => parseDockerfile('FROM a\nLABEL lonely\n'), /Dockerfile:2: LABEL must have two arguments/); // at parse time, as in BuildKit's parser
    assert.throws(() => body('ENV a=1 b\n'), /can't find = in "b"/);
  });

  it('a JSON array holding a non-string is an error, not the shell form', () => {
    assert.throws(() => body('CMD ["a", 42]\n'), /arrays must be comprised of strings only/);
    const [cmd] = body('CMD [not json\n');
    assert.equal(cmd.kind === 'CMD' && cmd.command, '[not json');
    const [exec] = body('ENTRYPOINT ["sh", "-c"]\n');
    assert.deepEqual(exec.kind === 'ENTRYPOINT' && exec.command, ['sh', '-c']);
  });

  it('here-documents: not inside quotes or JSON; with quoted parts or dots in the name; an empty body is empty', () => {
    const quoted = body('RUN echo "<<EOF"\n');
    assert.equal(quoted.length, 1);
    assert.equal(quoted[0].kind === 'RUN' && quoted[0].heredocs.length, 0);
    // In the exec form "<<EOF" is an argument, so the next line is an instruction.
    assert.throws(() => body('RUN ["sh", "-c", "cat <<EOF"]\nEOF\n'), /Dockerfile:3: unknown instruction: EOF/);
    const run = parseOne('RUN cat <<E"O"F\n$HOME\nEOF\n');
    assert.equal(run.kind === 'RUN' && run.heredocs[0].name, 'EOF');
    assert.equal(run.kind === 'RUN' && run.heredocs[0].expand, false);
    assert.equal(run.kind === 'RUN' && run.heredocs[0].content, '$HOME\n');
    const dots = parseOne('COPY <<file.txt /x/\nhi\nfile.txt\n');
    assert.equal(dots.kind === 'COPY' && dots.heredocs[0].name, 'file.txt');
    const empty = parseOne('RUN cat <<EOF\nEOF\n');
    assert.equal(empty.kind === 'RUN' && empty.heredocs[0].content, '');
    const chomp = parseOne('RUN cat <<-EOF\n\t\tindented\n\tEOF\n');
    assert.equal(chomp.kind === 'RUN' && heredocBody(chomp.heredocs[0]), 'indented\n');
    const spaced = parseOne('RUN <<  EOF  > foo\nhi\nEOF\n');
    assert.deepEqual(spaced.kind === 'RUN' && spaced.heredocs.map((h) => [h.name, h.content]), [['EOF', 'hi\n']]);
    const escaped = parseOne("RUN <<eo\\'f\necho foo\neo'f\n");
    assert.deepEqual(escaped.kind === 'RUN' && escaped.heredocs.map((h) => [h.name, h.expand]), [["eo'f", true]]);
    const mixed = parseOne("RUN <<'e'o\\'f\necho foo\neo'f\n");
    assert.deepEqual(mixed.kind === 'RUN' && mixed.heredocs.map((h) => [h.name, h.expand]), [["eo'f", false]]);
    assert.equal(parseHeredoc('<<EOF sh'), undefined);
    assert.equal(parseHeredoc('<<<EOF'), undefined);
    const two = parseOne('RUN cat <<A <<B\none\nA\ntwo\nB\n');
    assert.deepEqual(two.kind === 'RUN' && two.heredocs.map((h) => [h.name, h.content]), [['A', 'one\n'], ['B', 'two\n']]);
  });

  it('"--" ends the flags, and an unknown or unsupported flag is an error naming it', () => {
    const [copy] = body('COPY --chown=1:1 -- --weird /x/\n');
    assert.equal(copy.kind === 'COPY' && copy.chown, '1:1');
    assert.equal(copy.kind === 'COPY' && copy.args, '--weird /x/');
    assert.throws(() => body('RUN --bogus=1 true\n'), /unknown flag: --bogus/);
    assert.throws(() => body('WORKDIR --x=1 /a\n'), /unknown flag: --x/);
    assert.throws(() => body('COPY --from a /b\n'), /missing a value on flag: --from/);
    const [run] = body('RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=none true\n');
    assert.deepEqual(run.kind === 'RUN' && run.mounts, ['type=cache,target=/c', 'type=tmpfs,target=/t']);
    assert.equal(run.kind === 'RUN' && run.network, 'none');
  });

  it('typed instructions and stages: names checked, duplicates refused, meta ARGs kept apart', () => {
    const f = parseInstructions('ARG BASE=busybox\nFROM $BASE AS Build\nRUN true\nFROM scratch\nCOPY --from=build /bin /bin\n');
    assert.deepEqual(f.metaArgs, [{ key: 'BASE', value: 'busybox' }]);
    assert.deepEqual(f.stages.map((s) => [s.name, s.from.image, s.body.map((b) => b.kind)]), [['build', '$BASE', ['RUN']], [undefined, 'scratch', ['COPY']]]);
    assert.throws(() => parseInstructions('FROM a AS x\nFROM b AS x\n'), /duplicate stage name "x"/);
    assert.throws(() => parseInstructions('FROM a AS 1x\n'), /invalid name for build stage/);
    assert.throws(() => parseInstructions('FROM a b\n'), /FROM requires either one or three arguments/);
    assert.throws(() => parseInstructions('RUN true\nFROM a\n'), /RUN before FROM/);
    assert.throws(() => body('ONBUILD ONBUILD RUN x\n'), /ONBUILD ONBUILD/);
  });
});

describe('instruction values checked as docker checks them', () => {
  it('HEALTHCHECK takes Go durations (1m30s, 0) of at least 1ms, and retries that are not negative', () => {
    const hc = configOf('HEALTHCHECK --interval=1m30s --timeout=0 --start-interval=500ms --retries=3 CMD true\n').Healthcheck;
    assert.deepEqual(hc, { Test: ['CMD-SHELL', 'true'], Interval: 90e9, Timeout: 0, StartPeriod: undefined, StartInterval: 5e8, Retries: 3 });
    assert.throws(() => configOf('HEALTHCHECK --interval=100us CMD true\n'), /Dockerfile:2: --interval=100us cannot be less than 1ms/);
    assert.throws(() => configOf('HEALTHCHECK --timeout=5 CMD true\n'), /invalid --timeout=5/);
    assert.throws(() => configOf('HEALTHCHECK --retries=-1 CMD true\n'), /--retries cannot be negative/);
  });

  it('EXPOSE takes ranges and protocols and refuses what is not a port; STOPSIGNAL must be a signal', () => {
    assert.deepEqual(Object.keys(configOf('EXPOSE 8000-8002/udp 80\n').ExposedPorts ?? {}), ['8000/udp', '8001/udp', '8002/udp', '80/tcp']);
    assert.throws(() => configOf('EXPOSE http\n'), /Dockerfile:2: invalid port "http" in EXPOSE/);
    assert.throws(() => configOf('EXPOSE 80/xtp\n'), /invalid port "80\/xtp"/);
    assert.equal(configOf('STOPSIGNAL SIGINT\n').StopSignal, 'SIGINT');
    assert.throws(() => configOf('STOPSIGNAL SIGNOPE\n'), /Dockerfile:2: Invalid signal: SIGNOPE/);
  });
});

describe('word expansion', () => {
  it('nested and expanded operands', () => {
    assert.equal(word('${A:-$B}', { B: 'b' }), 'b');
    assert.equal(word('${A:-${B:-c}}'), 'c');
    assert.equal(word('app${V:+-${V}}', { V: 'v7' }), 'app-v7');
    assert.equal(word('app${V:+-${V}}', { V: '' }), 'app');
    assert.equal(word('${A-x}', { A: '' }), '');
    assert.equal(word('${A:-x}', { A: '' }), 'x');
    assert.equal(word('${A+x}', { A: '' }), 'x');
  });

  it('single quotes and \\$ stop expansion; double quotes do not', () => {
    assert.equal(word("'$HOME'", { HOME: '/root' }), '$HOME');
    assert.equal(word('\\$HOME', { HOME: '/root' }), '$HOME');
    assert.equal(word('"$HOME x"', { HOME: '/root' }), '/root x');
    assert.deepEqual(configOf("ENV X='$HOME'\n", { HOME: '/root' }).Env, ['X=$HOME']);
  });

  it('quote removal in WORKDIR, USER and VOLUME', () => {
    assert.equal(configOf('WORKDIR "/my dir"\n').WorkingDir, '/my dir');
    assert.equal(configOf("USER 'app'\n").User, 'app');
    assert.deepEqual(Object.keys(configOf('VOLUME "/a b" /c\n').Volumes ?? {}), ['/a b', '/c']);
  });

  it('an unterminated ${ and a bad substitution are errors', () => {
    assert.throws(() => word('${A'), /missing '}'/);
    assert.throws(() => word('${}'), /bad substitution/);
    assert.throws(() => word('"abc'), /matching double-quote/);
    assert.throws(() => body('WORKDIR ${A\n').forEach((i) => applyMetadata(i, { config: {} }, new Map(), false)), /Dockerfile:2: .*missing '}'/);
  });

  it('word splitting respects quotes and escapes', () => {
    assert.deepEqual(words('a "b c" d\\ e \'f g\''), ['a', 'b c', 'd e', 'f g']);
    assert.deepEqual(words('$X y', { X: 'one two' }), ['one', 'two', 'y']);
    assert.deepEqual(words('"$X" y', { X: 'one two' }), ['one two', 'y']);
    assert.deepEqual(words('""'), []);
    assert.deepEqual(words('hello\\" there'), ['hello"', 'there']);
  });

  it('positional and special parameters expand to nothing', () => {
    assert.equal(word('a$1b'), 'ab');
    assert.equal(word('a$@b$#c$?d'), 'abcd');
    assert.equal(word('cost: $'), 'cost: $');
    assert.equal(word('$ x'), '$ x');
  });

  it('${VAR#pattern}, ${VAR%pattern} and ${VAR/a/b}', () => {
    const v = { F: 'archive.tar.gz', P: '/usr/local/bin' };
    assert.equal(word('${F#*.}', v), 'tar.gz');
    assert.equal(word('${F##*.}', v), 'gz');
    assert.equal(word('${F%.*}', v), 'archive.tar');
    assert.equal(word('${F%%.*}', v), 'archive');
    assert.equal(word('${P/local/opt}', v), '/usr/opt/bin');
    assert.equal(word('${P//\\//:}', v), ':usr:local:bin');
    assert.equal(word('${F:?must be set}', v), 'archive.tar.gz');
    assert.throws(() => word('${NOPE:?must be set}'), /NOPE: must be set/);
  });
});

describe('RUN --mount options', () => {
  it('defaults as BuildKit has them: bind read-only, cache writable, a secret at /run/secrets/ID', () => {
    assert.equal(parseMount('type=bind,source=req.txt,target=/tmp/r', 2).readonly, true);
    assert.equal(parseMount('type=bind,source=req.txt,target=/tmp/r,rw', 2).readonly, false);
    assert.equal(parseMount('type=cache,target=/root/.cache/pip', 2).readonly, false);
    assert.equal(parseMount('type=cache,target=/c,sharing=locked', 2).sharing, 'locked');
    assert.equal(parseMount('type=secret,id=tok', 2).target, '/run/secrets/tok');
    assert.equal(parseMount('target=/src', 2).type, 'bind');
  });

  it('an option that does not apply to the type is refused by name, never ignored', () => {
    assert.throws(() => parseMount('type=cache,target=/c,from=deps', 3), /Dockerfile:3: from= does not apply to a cache mount: seeding a cache mount from a stage is not supported/);
    assert.throws(() => parseMount('type=tmpfs,target=/t,uid=1000', 3), /uid= does not apply to a tmpfs mount/);
    assert.throws(() => parseMount('type=cache,target=/c,sharing=sometimes', 3), /invalid sharing=sometimes/);
    assert.throws(() => parseMount('type=cache,target=/c,mode=999', 3), /invalid mode=999/);
    assert.throws(() => parseMount('type=secret', 3), /a secret mount needs id=NAME/);
    assert.throws(() => parseMount('type=cache', 3), /needs target=PATH/);
  });
});
