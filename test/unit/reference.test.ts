// Image references as docker normalises them: which registry a pull asks,
// and which names are one image in the store.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatReference, parseReference } from '../../kernel/engine/images/reference';
import { registryRef } from '../../kernel/engine/registry/names';

describe('image references', () => {
  it('docker.io/busybox is docker.io/library/busybox, and index.docker.io means docker.io', () => {
    for (const name of ['busybox', 'docker.io/busybox', 'library/busybox', 'docker.io/library/busybox', 'index.docker.io/library/busybox', 'index.docker.io/busybox']) {
      const r = registryRef(name);
      assert.equal(r.registry, 'registry-1.docker.io', name);
      assert.equal(r.path, 'library/busybox', name);
      assert.equal(formatReference(parseReference(name)), 'busybox:latest', name);
    }
    assert.equal(formatReference(parseReference('docker.io/team/app:v1')), 'team/app:v1');
  });

  it('a first component with a dot or port, localhost, an upper-case letter or brackets is a registry', () => {
    assert.deepEqual([registryRef('localhost/app').registry, registryRef('localhost/app').path], ['localhost', 'app']);
    assert.deepEqual([registryRef('example.com/app').registry, registryRef('example.com/app').path], ['example.com', 'app']);
    assert.equal(registryRef('Example.com/app').registry, 'Example.com');
    assert.equal(registryRef('Reg/app').registry, 'Reg');
    const v6 = registryRef('[::1]:5000/repo:v2');
    assert.deepEqual([v6.registry, v6.path, v6.tag], ['[::1]:5000', 'repo', 'v2']);
    assert.equal(formatReference(parseReference('[::1]:5000/repo')), '[::1]:5000/repo:latest');
    assert.equal(registryRef('localhost:5000').path, 'library/localhost'); // the port is a tag here
    assert.equal(registryRef('localhost:5000').tag, '5000');
  });

  it('invalid names are refused: separators at the ends, upper case in the path, 64-hex names, over 255 characters', () => {
    for (const bad of ['-busybox', 'busybox-', 'a//b', 'a/', '/a', 'a__-b', 'UPPER', 'team/App', 'a:', 'a@sha256:abc', 'a:-tag', '']) {
      assert.throws(() => parseReference(bad), /invalid reference format/, bad);
    }
    assert.throws(() => parseReference('a'.repeat(64).replace(/a/g, 'f')), /cannot specify 64-byte hexadecimal strings/);
    assert.throws(() => parseReference(`${'a'.repeat(200)}/${'b'.repeat(60)}`), /must not be more than 255 characters/);
    assert.match(String((() => { try { parseReference('team/App'); } catch (e) { return (e as Error).message; } })()), /must be lowercase/);
    for (const good of ['a.b_c__d-e--f', 'a' + '/b'.repeat(20), `busybox@sha256:${'0'.repeat(64)}`, 'busybox:1.36.1-glibc', 'localhost:5000/a/b:tag@sha256:' + 'a'.repeat(64)]) {
      assert.doesNotThrow(() => parseReference(good), good);
    }
  });
});
