// The client side of the HTTP/1.1 engine on raw sockets against the real binary: the three
// named client timeouts, a slowloris that must not delay anyone else, one request at a time
// on a pipelining connection, and what the proxy answers itself (CONNECT, OPTIONS *, h2c).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from './helpers/http-client.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { fieldValues, RawClient, rawRoundTrip } from './helpers/raw-http.ts';
import { okResponse, startRecordingUpstream, type RecordingUpstream } from './helpers/recording-upstream.ts';

describe('client timeouts and the requests the proxy answers itself', () => {
  let upstream: RecordingUpstream;
  let active = 0;
  let peakActive = 0;
  let proxy: ProxyProcess;

  before(async () => {
    // `/upload` is never answered: its body never completes.
    upstream = await startRecordingUpstream((request, { socket }) => {
      const path = request.startLine.split(' ')[1] ?? '';
      active++;
      peakActive = Math.max(peakActive, active);
      // Pipelined requests get slow answers, so a second one in flight would be seen.
      setTimeout(
        () => {
          active--;
          if (request.startLine.startsWith('HEAD ')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n');
          else if (path === '/chunked') socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
          else socket.write(okResponse(path, `x-seen-upgrade: ${fieldValues(request, 'upgrade').length > 0}\r\nx-seen-settings: ${fieldValues(request, 'http2-settings').length > 0}\r\n`));
        },
        path.startsWith('/pipe') ? 100 : 0,
      );
      return undefined;
    });
    proxy = await startProxy({
      staticKeys: 'client_header_timeout_secs = 1\nclient_body_timeout_secs = 1\nkeepalive_timeout_secs = 1',
      config: `[[sites]]\nhost = "app.test"\nupstream = "${upstream.url}"\n`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  it('answers 408 and closes when the head does not arrive within client_header_timeout_secs; nothing is forwarded', async () => {
    const before = upstream.requests.length;
    const started = performance.now();
    const reply = await rawRoundTrip(proxy.port, 'GET /slow-head HTTP/1.1\r\nHost: app.test\r\n');
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, /connection: close/);
    assert.ok(performance.now() - started >= 900, 'not before the timeout');
    assert.equal(upstream.requests.length, before);
    const line = await proxy.waitForLog((l) => l.event === 'access' && l.error === 'ERR_CLIENT_HEADER_TIMEOUT');
    assert.equal(line.status, 408);
  });

  it('answers 408 and closes when the body pauses longer than client_body_timeout_secs', async () => {
    const reply = await rawRoundTrip(proxy.port, 'POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 10\r\n\r\nabc');
    assert.match(reply, /^HTTP\/1\.1 408 /);
  });

  it('closes a keep-alive connection idle for keepalive_timeout_secs, and advertises that timeout', async () => {
    const client = await RawClient.open(proxy.port, 'GET /once HTTP/1.1\r\nHost: app.test\r\n\r\n');
    const answered = await client.waitFor(/\r\n\r\n\/once$/);
    assert.match(answered, /keep-alive: timeout=1\r\n/);
    const started = performance.now();
    assert.equal(await client.closed, answered, 'closed without another byte');
    assert.ok(performance.now() - started >= 900, 'not before the timeout');
  });

  it('handles pipelined requests one at a time, in order', async () => {
    peakActive = 0;
    const pipelined = ['/pipe1', '/pipe2', '/pipe3'].map((p) => `GET ${p} HTTP/1.1\r\nHost: app.test\r\n\r\n`).join('');
    const client = await RawClient.open(proxy.port, pipelined);
    const all = await client.waitFor(/\/pipe3$/);
    client.socket.destroy();
    assert.deepEqual([...all.matchAll(/\r\n\r\n(\/pipe\d)/g)].map((m) => m[1]), ['/pipe1', '/pipe2', '/pipe3']);
    assert.equal(peakActive, 1, 'the upstream never had two of them at once');
  });

  it('answers CONNECT with 405 and a body, OPTIONS * itself, and forwards neither', async () => {
    const before = upstream.requests.length;
    const connect = await rawRoundTrip(proxy.port, 'CONNECT app.test:443 HTTP/1.1\r\nHost: app.test:443\r\n\r\n');
    assert.match(connect, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    assert.match(connect, /\r\n\r\n405 CONNECT is not supported\n$/);
    const options = await rawRoundTrip(proxy.port, 'OPTIONS * HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    assert.match(options, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(options, /\r\nallow: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH\r\n/);
    assert.equal(upstream.requests.length, before);
  });

  it('never forwards Upgrade: h2c (nor its HTTP2-Settings), and answers the request as HTTP/1.1', async () => {
    const reply = await rawRoundTrip(proxy.port, 'GET /h2c HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(reply, /x-seen-upgrade: false\r\n/);
    assert.match(reply, /x-seen-settings: false\r\n/);
  });

  it('keeps an HTTP/1.0 connection that asked for keep-alive, and ends a chunked upstream body by closing it', async () => {
    const client = await RawClient.open(proxy.port, 'GET /ten HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n');
    const first = await client.waitFor(/\/ten$/);
    assert.match(first, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(first, /connection: keep-alive\r\n/);
    client.socket.write('GET /chunked HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n');
    const all = await client.closed;
    const second = all.slice(first.length);
    assert.match(second, /connection: close\r\n/);
    assert.doesNotMatch(second, /transfer-encoding/i, 'HTTP/1.0 has no chunked coding');
    assert.match(second, /\r\n\r\nhello$/);
  });

  it('relays a HEAD response without a body and serves the next request on the same connection', async () => {
    const client = await RawClient.open(proxy.port, 'HEAD /head HTTP/1.1\r\nHost: app.test\r\n\r\n');
    const head = await client.waitFor(/\r\n\r\n$/);
    assert.match(head, /content-length: 100\r\n/);
    client.socket.write('GET /after-head HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
    const all = await client.closed;
    assert.match(all.slice(head.length), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/after-head$/);
  });
});

describe('slowloris', () => {
  let upstream: RecordingUpstream;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await startRecordingUpstream(() => ({ bytes: okResponse('fine') }));
    // The default client_header_timeout_secs (10 s): the trickling connections stay open
    // throughout the test.
    proxy = await startProxy({ config: `[[sites]]\nhost = "app.test"\nupstream = "${upstream.url}"\n` });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  it('500 connections trickling their heads never hold up a normal request', { timeout: 30_000 }, async () => {
    const loris: RawClient[] = [];
    for (let i = 0; i < 500; i++) loris.push(await RawClient.open(proxy.port, 'GET / HTTP/1.1\r\nHost: app.test\r\nX-Pad: '));
    const trickle = setInterval(() => {
      for (const client of loris) client.socket.write('a');
    }, 200);
    try {
      for (let i = 0; i < 5; i++) {
        // A generous bound: this proves the request completes, not how fast.
        const reply = await Promise.race([get(proxy.port, 'app.test'), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('normal request held up')), 5_000))]);
        assert.equal(reply.status, 200);
        assert.equal(reply.body, 'fine');
      }
      assert.equal(loris.filter((client) => client.socket.destroyed).length, 0, 'the trickling connections were all still open');
    } finally {
      clearInterval(trickle);
      for (const client of loris) client.socket.destroy();
    }
  });
});
