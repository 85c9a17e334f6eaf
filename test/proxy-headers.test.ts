// Header rewriting in both directions, checked on what a real upstream and a real client see.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_KEEPALIVE_TIMEOUT_SECS } from '../src/config/defaults.ts';
import { MAX_REQUEST_HEADER_BYTES } from '../src/proxy/limits.ts';
import { send as sendHttp } from './helpers/http-client.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';

const send = (port: number, headers: Record<string, string | string[]>) => sendHttp(port, { path: '/h', headers });

/** An upstream that answers with hop-by-hop headers a proxy must not pass on. */
async function startHopByHopUpstream(): Promise<{ url: string; server: Server }> {
  const server = createServer((socket) => {
    socket.once('data', () => {
      socket.end(
        'HTTP/1.1 200 OK\r\n' +
          'Connection: close, X-Hop\r\n' +
          'X-Hop: per-connection\r\n' +
          'Keep-Alive: timeout=5\r\n' +
          'Proxy-Authenticate: Basic\r\n' +
          'Trailer: X-Checksum\r\n' +
          'Upgrade: h2c\r\n' +
          'X-End-To-End: kept\r\n' +
          'Set-Cookie: a=1\r\n' +
          'Set-Cookie: b=2\r\n' +
          'Content-Length: 2\r\n\r\nok',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('headers', () => {
  let upstream: Upstream;
  let hop: { url: string; server: Server };
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await startUpstream(echo('app'));
    hop = await startHopByHopUpstream();
    proxy = await startProxy({
      config: `
[[sites]]
host = "keep.test"
upstream = "${upstream.url}"

[[sites]]
host = "rewrite.test"
upstream = "${upstream.url}"
preserve_host = false
via = true

[[sites]]
host = "hop.test"
upstream = "${hop.url}"
via = true
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
    await new Promise((resolve) => hop?.server.close(resolve));
  });

  it('strips hop-by-hop request headers and any header the Connection header names', async () => {
    const reply = await send(proxy.port, {
      host: 'keep.test',
      connection: 'keep-alive, X-Secret',
      'x-secret': 'for the proxy only',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      te: 'trailers',
      'x-end-to-end': 'kept',
    });
    const seen = JSON.parse(reply.body).headers as Record<string, string>;
    // The client's Connection header is its own hop's; the upstream request is HTTP/1.1, persistent without one.
    for (const name of ['connection', 'x-secret', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'upgrade', 'trailer']) {
      assert.equal(seen[name], undefined, `${name} must not reach the upstream`);
    }
    assert.equal(seen['x-end-to-end'], 'kept');
  });

  it('appends to X-Forwarded-For and sets X-Real-IP, X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const reply = await send(proxy.port, {
      host: 'Keep.Test:8080',
      'x-forwarded-for': ['203.0.113.7', '198.51.100.1'],
      'x-real-ip': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'spoofed.test',
    });
    const seen = JSON.parse(reply.body).headers as Record<string, string>;
    assert.equal(seen['x-forwarded-for'], '203.0.113.7, 198.51.100.1, 127.0.0.1');
    assert.equal(seen['x-real-ip'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'Keep.Test:8080');
    assert.equal(seen.host, 'Keep.Test:8080', 'preserve_host defaults to true: the client Host goes upstream as sent');
    assert.equal(seen.via, undefined, 'via defaults to false');
  });

  it('with preserve_host = false sends the upstream its own host:port, and with via = true adds Via both ways', async () => {
    const reply = await send(proxy.port, { host: 'rewrite.test', via: '1.0 corporate-proxy' });
    const seen = JSON.parse(reply.body).headers as Record<string, string>;
    assert.equal(seen.host, new URL(upstream.url).host);
    assert.equal(seen['x-forwarded-host'], 'rewrite.test');
    assert.equal(seen.via, '1.0 corporate-proxy, 1.1 reverse-proxy');
    assert.equal(reply.headers.via, '1.1 reverse-proxy');
  });

  it(`answers 431 to a request head over MAX_REQUEST_HEADER_BYTES (${MAX_REQUEST_HEADER_BYTES}) and advertises keepalive_timeout_secs`, async () => {
    const small = await send(proxy.port, { host: 'keep.test', connection: 'keep-alive', 'x-pad': 'a'.repeat(MAX_REQUEST_HEADER_BYTES - 1_024) });
    assert.equal(small.status, 200);
    assert.equal(small.headers['keep-alive'], `timeout=${DEFAULT_KEEPALIVE_TIMEOUT_SECS}`);
    const big = await send(proxy.port, { host: 'keep.test', 'x-pad': 'a'.repeat(MAX_REQUEST_HEADER_BYTES + 1) });
    assert.equal(big.status, 431);
  });

  it('strips hop-by-hop response headers and Connection-named ones, keeping repeated end-to-end headers', async () => {
    const reply = await send(proxy.port, { host: 'hop.test' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'ok');
    for (const name of ['x-hop', 'proxy-authenticate', 'trailer', 'upgrade']) {
      assert.equal(reply.headers[name], undefined, `${name} must not reach the client`);
    }
    assert.notEqual(reply.headers['keep-alive'], 'timeout=5', 'the upstream keep-alive hint is not relayed');
    assert.equal(reply.headers['x-end-to-end'], 'kept');
    assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(reply.headers.via, '1.1 reverse-proxy');
  });
});
