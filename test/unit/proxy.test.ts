// Which requests go through a proxy, by the environment, as docker (Go's
// net/http) decides it.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { proxyFor } from '../../kernel/engine/registry/http';

const via = (url: string, env: NodeJS.ProcessEnv) => proxyFor(new URL(url), env);

describe('proxies from the environment', () => {
  it('HTTPS_PROXY for https, HTTP_PROXY for http, upper case first, http:// when no scheme', () => {
    const env = { HTTPS_PROXY: 'proxy.lab:3128', https_proxy: 'http://lower:1', HTTP_PROXY: 'http://plain:8080' };
    assert.equal(via('https://registry.example.com/v2/', env), 'http://proxy.lab:3128');
    assert.equal(via('http://registry.example.com/v2/', env), 'http://plain:8080');
    assert.equal(via('https://registry.example.com/v2/', { https_proxy: 'http://lower:1' }), 'http://lower:1');
    assert.equal(via('https://registry.example.com/v2/', {}), undefined);
  });

  it('never for localhost or loopback addresses', () => {
    const env = { HTTP_PROXY: 'http://p:1', HTTPS_PROXY: 'http://p:1' };
    for (const u of ['http://localhost:5000/v2/', 'http://127.0.0.1:5000/v2/', 'http://127.3.4.5/v2/', 'http://[::1]:5000/v2/']) assert.equal(via(u, env), undefined, u);
  });

  it('NO_PROXY: domains with their subdomains, .domain for subdomains only, ports, IPs, CIDRs and *', () => {
    const env = (no: string) => ({ HTTPS_PROXY: 'http://p:1', NO_PROXY: no });
    assert.equal(via('https://corp.example/v2/', env('corp.example')), undefined);
    assert.equal(via('https://reg.corp.example/v2/', env('corp.example')), undefined);
    assert.equal(via('https://notcorp.example/v2/', env('corp.example')), 'http://p:1');
    assert.equal(via('https://corp.example/v2/', env('.corp.example')), 'http://p:1');
    assert.equal(via('https://reg.corp.example/v2/', env('.corp.example')), undefined);
    assert.equal(via('https://reg.corp.example/v2/', env('*.corp.example')), undefined);
    assert.equal(via('https://reg.corp.example:5000/v2/', env('reg.corp.example:5000')), undefined);
    assert.equal(via('https://reg.corp.example/v2/', env('reg.corp.example:5000')), 'http://p:1');
    assert.equal(via('https://10.1.2.3/v2/', env('10.1.2.3')), undefined);
    assert.equal(via('https://10.1.2.3/v2/', env('10.0.0.0/8')), undefined);
    assert.equal(via('https://11.1.2.3/v2/', env('10.0.0.0/8')), 'http://p:1');
    assert.equal(via('https://[fd00::5]/v2/', env('fd00::/8')), undefined);
    assert.equal(via('https://[fd00::5]:443/v2/', env('fd00::5')), undefined);
    assert.equal(via('https://anything.example/v2/', env('a.example, *')), undefined);
    assert.equal(via('https://x.example/v2/', { HTTPS_PROXY: 'http://p:1', no_proxy: 'x.example' }), undefined);
  });
});
