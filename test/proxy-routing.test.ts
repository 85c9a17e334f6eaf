// Host routing and the proxy's own error statuses, through the real binary.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { send, type Reply } from './helpers/http-client.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';


/** One request with an exact Host header (or none), so routing sees what a client sent. */
function get(port: number, host: string | undefined, path = '/'): Promise<Reply> {
  return send(port, { path, headers: host === undefined ? {} : { host } });
}

/** A request written byte for byte, for heads node:http refuses to send (no Host at all). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no reply within 5 s')));
  });
}

describe('routing', () => {
  let exact: Upstream;
  let wildcard: Upstream;
  let deeper: Upstream;
  let fallback: Upstream;
  let proxy: ProxyProcess;
  let noDefault: ProxyProcess;

  before(async () => {
    [exact, wildcard, deeper, fallback] = await Promise.all([
      startUpstream(echo('exact')),
      startUpstream(echo('wildcard')),
      startUpstream(echo('deeper')),
      startUpstream(echo('fallback')),
    ]);
    proxy = await startProxy({
      config: `
[[sites]]
host = ["example.com", "www.example.com"]
upstream = "${exact.url}"

[[sites]]
host = "*.example.com"
upstream = "${wildcard.url}"

[[sites]]
host = "*.api.example.com"
upstream = "${deeper.url}"

[[sites]]
default = true
upstream = "${fallback.url}"
`,
    });
    noDefault = await startProxy({ config: `[[sites]]\nhost = "only.test"\nupstream = "${exact.url}"\n` });
  });

  after(async () => {
    await Promise.all([proxy?.stop(), noDefault?.stop()]);
    await Promise.all([exact, wildcard, deeper, fallback].map((u) => u?.close()));
  });

  it('matches exact names case-insensitively, ignoring port and trailing dot', async () => {
    for (const host of ['example.com', 'EXAMPLE.com:8080', 'example.com.', 'Www.Example.Com.:80']) {
      const reply = await get(proxy.port, host);
      assert.equal(reply.status, 200, host);
      assert.equal(JSON.parse(reply.body).upstream, 'exact', host);
    }
  });

  it('prefers the longest wildcard suffix, and a wildcard never matches its bare domain', async () => {
    assert.equal(JSON.parse((await get(proxy.port, 'a.example.com')).body).upstream, 'wildcard');
    assert.equal(JSON.parse((await get(proxy.port, 'x.y.example.com')).body).upstream, 'wildcard');
    assert.equal(JSON.parse((await get(proxy.port, 'v1.api.example.com')).body).upstream, 'deeper');
    assert.equal(JSON.parse((await get(proxy.port, 'api.example.com')).body).upstream, 'wildcard');
  });

  it('sends unknown hosts, IPv6 literals and IP addresses to the default site', async () => {
    for (const host of ['other.test', '[::1]:8080', '127.0.0.1']) {
      assert.equal(JSON.parse((await get(proxy.port, host)).body).upstream, 'fallback', host);
    }
  });

  it('answers 404 with a plain-text body when no site matches and there is no default', async () => {
    const reply = await get(noDefault.port, 'Nope.Test:81');
    assert.equal(reply.status, 404);
    assert.equal(reply.body, '404 no site for host "nope.test"\n');
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
  });

  it('answers 400 to a request without Host, with an empty Host, or with an invalid one', async () => {
    const missing = await raw(proxy.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.match(missing, /^HTTP\/1\.1 400 /);
    assert.match(missing, /400 missing Host header\n$/);
    const empty = await raw(proxy.port, 'GET / HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n');
    assert.match(empty, /^HTTP\/1\.1 400 /);
    const invalid = await get(proxy.port, 'bad host!');
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body, '400 invalid Host header\n');
  });

  it('sends an HTTP/1.0 request without Host to the default site, and answers 400 when there is none', async () => {
    const routed = await raw(proxy.port, 'GET /old HTTP/1.0\r\n\r\n');
    assert.match(routed, /^HTTP\/1\.1 200 /);
    assert.match(routed, /"upstream":"fallback"/);
    const refused = await raw(noDefault.port, 'GET /old HTTP/1.0\r\n\r\n');
    assert.match(refused, /^HTTP\/1\.1 400 /);
  });

  it('routes an absolute-form request by its authority, not the Host header', async () => {
    const reply = await raw(proxy.port, 'GET http://a.example.com/x?y=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 /);
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''));
    assert.equal(body.upstream, 'wildcard');
    assert.equal(body.url, '/x?y=1');
    assert.equal(body.headers.host, 'a.example.com', 'the authority replaces the Host header upstream too');
    assert.equal(body.headers['x-forwarded-host'], 'a.example.com');
  });

  it('writes one access-log line per request with the documented fields', async () => {
    await get(noDefault.port, 'only.test', '/logged?q=1');
    const line = await noDefault.waitForLog((l) => l.event === 'access' && l.path === '/logged?q=1');
    assert.equal(line.method, 'GET');
    assert.equal(line.host, 'only.test');
    assert.equal(line.status, 200);
    assert.equal(line.upstream, exact.url);
    assert.equal(line.remote, '127.0.0.1');
    assert.equal(typeof line.duration_ms, 'number');
    assert.equal(line.bytes_in, 0);
    assert.ok((line.bytes_out as number) > 0);
  });
});
