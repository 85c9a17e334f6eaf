// Host normalization and the routing table, as pure functions (the wire is covered in
// proxy-routing.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeHost } from '../src/proxy/host.ts';
import { HostRouter } from '../src/proxy/router.ts';

describe('normalizeHost', () => {
  it('lower-cases, strips the port and the trailing dot', () => {
    assert.equal(normalizeHost('Example.COM'), 'example.com');
    assert.equal(normalizeHost('example.com:8080'), 'example.com');
    assert.equal(normalizeHost('example.com.'), 'example.com');
    assert.equal(normalizeHost('Example.com.:443'), 'example.com');
    assert.equal(normalizeHost('localhost:'), 'localhost');
    assert.equal(normalizeHost('10.0.0.1:80'), '10.0.0.1');
  });

  it('passes a name that is already normal through as it is', () => {
    for (const name of ['app.test', 'a', 'a-b_c.example9.com', '10.0.0.1', '-x.y']) assert.equal(normalizeHost(name), name);
    assert.equal(normalizeHost('a.b.'), 'a.b');
    assert.equal(normalizeHost('127.0.0.1:8080'), '127.0.0.1');
    assert.equal(normalizeHost('app.test:'), 'app.test');
  });

  it('keeps IPv6 literals in brackets without their port', () => {
    assert.equal(normalizeHost('[::1]:8080'), '[::1]');
    assert.equal(normalizeHost('[2001:DB8::1]'), '[2001:db8::1]');
  });

  it('rejects what is not a host name', () => {
    for (const bad of ['a b', 'example.com:80:80', 'example.com:http', '[::1', '[zz]', '[::1]x', '.', 'a..b', '.a', 'a.b..', ':80', 'a.:80x', 'a:8o', 'user@example.com', '']) {
      assert.equal(normalizeHost(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('HostRouter', () => {
  const site = (name: string, hosts: string[], isDefault = false) => ({ name, hosts, isDefault });
  const router = new HostRouter([
    site('exact', ['example.com']),
    site('wild', ['*.example.com']),
    site('deep', ['*.a.example.com']),
    site('first', ['dup.test']),
    site('second', ['dup.test'], true),
  ]);

  it('matches exact, then the longest wildcard, then the default', () => {
    assert.equal(router.match('example.com')?.name, 'exact');
    assert.equal(router.match('x.example.com')?.name, 'wild');
    assert.equal(router.match('x.a.example.com')?.name, 'deep');
    assert.equal(router.match('a.example.com')?.name, 'wild');
    assert.equal(router.match('unknown.test')?.name, 'second');
  });

  it('keeps the first site for a duplicated pattern and answers undefined without a default', () => {
    assert.equal(router.match('dup.test')?.name, 'first');
    assert.equal(new HostRouter([site('only', ['only.test'])]).match('other.test'), undefined);
  });
});
