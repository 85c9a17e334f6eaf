// The statuses the proxy produces itself: 502, 504 (connect and response timeouts), 413, 429,
// plus failover to the next upstream when one refuses connections.
import assert from 'node:assert/strict';
import { request, createServer as createHttpServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBlackhole, type Blackhole } from './helpers/blackhole.ts';
import { send as sendHttp, type Reply, type SendOptions } from './helpers/http-client.ts';
import { closedPort } from './helpers/ports.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';

function send(port: number, host: string, options: Omit<SendOptions, 'path'> = {}): Promise<Reply> {
  return sendHttp(port, { ...options, headers: { host, ...options.headers } });
}

describe('error statuses', () => {
  let good: Upstream;
  let guarded: Upstream;
  let silent: Server;
  let stalling: Server;
  let refusedPort: number;
  let blackhole: Blackhole;
  let proxy: ProxyProcess;

  before(async () => {
    good = await startUpstream(echo('good'));
    guarded = await startUpstream(echo('guarded'));
    refusedPort = await closedPort();
    // Accepts and reads the request, never answers.
    silent = createHttpServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    // Sends headers and a first chunk, then goes quiet.
    stalling = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part ');
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    blackhole = await startBlackhole();
    proxy = await startProxy({
      config: `
[[sites]]
host = "refused.test"
upstream = "http://127.0.0.1:${refusedPort}"

[[sites]]
host = "failover.test"
upstream = ["http://127.0.0.1:${refusedPort}", "${good.url}"]

[[sites]]
host = "silent.test"
upstream = "http://127.0.0.1:${(silent.address() as AddressInfo).port}"
request_timeout_secs = 0.5

[[sites]]
host = "stalling.test"
upstream = "http://127.0.0.1:${(stalling.address() as AddressInfo).port}"
request_timeout_secs = 0.5

[[sites]]
host = "blackhole.test"
upstream = "http://127.0.0.1:${blackhole.port}"
connect_timeout_secs = 0.5

[[sites]]
host = "ejecting.test"
upstream = ["http://127.0.0.1:${blackhole.port}", "${good.url}"]
connect_timeout_secs = 0.5

[[sites]]
host = "small.test"
upstream = "${guarded.url}"
body_limit_bytes = 1000

[[sites]]
host = "limited.test"
upstream = "${good.url}"
rate_limit = { rps = 0.5, burst = 2 }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    silent?.closeAllConnections();
    stalling?.closeAllConnections();
    await Promise.all([good?.close(), guarded?.close(), new Promise((r) => silent?.close(r)), new Promise((r) => stalling?.close(r))]);
    blackhole?.close();
  });

  it('answers 502 when the upstream refuses the connection, without internals in the body', async () => {
    const reply = await send(proxy.port, 'refused.test');
    assert.equal(reply.status, 502);
    assert.equal(reply.body, '502 upstream unavailable\n');
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
    const logged = await proxy.waitForLog((l) => l.event === 'upstream_error' && l.host === 'refused.test');
    assert.equal(logged.code, 'ERR_UPSTREAM_UNREACHABLE');
    assert.match(String(logged.msg), /ECONNREFUSED/);
  });

  it('tries the next upstream when one refuses, so the client never sees the dead one', async () => {
    for (let i = 0; i < 4; i++) {
      const reply = await send(proxy.port, 'failover.test');
      assert.equal(reply.status, 200);
      assert.equal(JSON.parse(reply.body).upstream, 'good');
    }
  });

  it('answers 504 when the upstream sends no response headers within request_timeout_secs', async () => {
    const reply = await send(proxy.port, 'silent.test');
    assert.equal(reply.status, 504);
    assert.equal(reply.body, '504 upstream timed out\n');
  });

  it('cuts the response when the upstream body stays idle for request_timeout_secs after headers were sent', async () => {
    await assert.rejects(send(proxy.port, 'stalling.test'), (error: NodeJS.ErrnoException) => {
      assert.match(String(error.code ?? error.message), /ECONNRESET|aborted/);
      return true;
    });
    const line = await proxy.waitForLog((l) => l.event === 'access' && l.host === 'stalling.test');
    assert.equal(line.error, 'ERR_UPSTREAM_TIMEOUT');
  });

  it('answers 504 when connecting to the upstream takes longer than connect_timeout_secs', async () => {
    const reply = await send(proxy.port, 'blackhole.test');
    assert.equal(reply.status, 504);
    const logged = await proxy.waitForLog((l) => l.event === 'upstream_error' && l.host === 'blackhole.test');
    assert.match(String(logged.msg), /ERR_CONNECT_TIMEOUT/);
  });

  it('takes an upstream whose connect timed out out of rotation instead of waiting on it every turn', async () => {
    for (let i = 0; i < 6; i++) {
      const reply = await send(proxy.port, 'ejecting.test');
      assert.equal(reply.status, 200);
      assert.equal(JSON.parse(reply.body).upstream, 'good');
    }
    const ejections = proxy.logs.filter((l) => l.event === 'upstream_down' && l.upstream === `http://127.0.0.1:${blackhole.port}`);
    assert.equal(ejections.length, 1, 'tried once, then skipped for UPSTREAM_FAIL_TIMEOUT_MS');
  });

  it('answers 413 to a Content-Length over body_limit_bytes without contacting the upstream', async () => {
    const before = guarded.requests.length;
    const reply = await send(proxy.port, 'small.test', { method: 'POST', headers: { 'content-length': '2000' }, chunks: [Buffer.alloc(2000)] });
    assert.equal(reply.status, 413);
    assert.equal(reply.body, '413 request body too large\n');
    assert.equal(reply.headers.connection, 'close');
    assert.equal(guarded.requests.length, before);
  });

  it('answers 413 when a chunked body grows past body_limit_bytes while streaming, and passes one under it', async () => {
    const over = await send(proxy.port, 'small.test', { method: 'POST', chunks: [Buffer.alloc(600), Buffer.alloc(600)] });
    assert.equal(over.status, 413);
    const under = await send(proxy.port, 'small.test', { method: 'POST', chunks: [Buffer.alloc(400), Buffer.alloc(400)] });
    assert.equal(under.status, 200);
    assert.equal(JSON.parse(under.body).bodyBytes, 800);
    assert.ok(guarded.requests.every((r) => r.bodyBytes <= 1000), 'the upstream never receives a complete over-limit body');
  });

  it('answers 429 with Retry-After once a client has used its burst', async () => {
    assert.equal((await send(proxy.port, 'limited.test')).status, 200);
    assert.equal((await send(proxy.port, 'limited.test')).status, 200);
    const limited = await send(proxy.port, 'limited.test');
    assert.equal(limited.status, 429);
    assert.equal(limited.body, '429 too many requests\n');
    // At 0.5 tokens per second an empty bucket needs 2 s for the next token.
    assert.equal(limited.headers['retry-after'], '2');
    // Other sites are not limited by this site's buckets.
    assert.equal((await send(proxy.port, 'refused.test')).status, 502);
  });
});

describe('client-side limits', () => {
  let upstream: Upstream;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await startUpstream(echo('app'));
    proxy = await startProxy({
      staticKeys: 'client_body_timeout_secs = 1',
      config: `
[[sites]]
host = "small.test"
upstream = "${upstream.url}"
body_limit_bytes = 1000
request_timeout_secs = 0.5
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  /** Writes a request head and collects everything the proxy sends until it closes. */
  function exchangeRaw(head: string, afterFirstReply?: (socket: Socket) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(proxy.port, '127.0.0.1', () => socket.write(head));
      let data = '';
      let replied = false;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
        if (!replied) {
          replied = true;
          afterFirstReply?.(socket);
        }
      });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(10_000, () => socket.destroy(new Error('proxy kept the connection open')));
    });
  }

  it('refuses an Expect: 100-continue upload over the limit with 413 and never asks for the body', async () => {
    const reply = await exchangeRaw('POST / HTTP/1.1\r\nHost: small.test\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    assert.doesNotMatch(reply, /100 Continue/);
    assert.match(reply, /^HTTP\/1\.1 413 /);
  });

  it('asks for an Expect: 100-continue body within the limit and forwards it', async () => {
    const reply = await exchangeRaw('POST / HTTP/1.1\r\nHost: small.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', (socket) => socket.write('hello'));
    assert.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.match(reply, /"bodyBytes":5/);
  });

  it('answers 408 and closes a client that stops sending its body for client_body_timeout_secs', async () => {
    // Ten bytes of a promised 500, then silence: the connection must be closed, not held.
    const reply = await exchangeRaw('POST / HTTP/1.1\r\nHost: small.test\r\nContent-Length: 500\r\n\r\n0123456789');
    assert.match(reply, /^HTTP\/1\.1 408 /);
    const line = await proxy.waitForLog((l) => l.event === 'access' && l.error === 'ERR_CLIENT_BODY_TIMEOUT');
    assert.equal(line.status, 408);
  });
});

describe('client going away', () => {
  let upstream: Server;
  let proxy: ProxyProcess;
  let upstreamSawAbort: Promise<void>;

  before(async () => {
    let markAbort: () => void = () => undefined;
    upstreamSawAbort = new Promise<void>((resolve) => (markAbort = resolve));
    upstream = createHttpServer((req) => {
      req.resume();
      req.on('close', () => {
        if (!req.complete) markAbort();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    proxy = await startProxy({ config: `[[sites]]\nhost = "upload.test"\nupstream = "http://127.0.0.1:${(upstream.address() as AddressInfo).port}"\n` });
  });

  after(async () => {
    await proxy?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('aborts the upstream request when the client disconnects mid-upload, logs 499, and keeps serving', async () => {
    const req = request({ host: '127.0.0.1', port: proxy.port, method: 'PUT', path: '/big', headers: { host: 'upload.test' }, agent: false });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(64 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 200));
    req.destroy();
    await upstreamSawAbort;
    const line = await proxy.waitForLog((l) => l.event === 'access' && l.path === '/big');
    assert.equal(line.status, 499);
    assert.equal(line.error, 'ERR_CLIENT_CLOSED');
    assert.equal(proxy.logs.some((l) => l.event === 'upstream_error'), false, 'a client leaving is not an upstream failure');
    assert.equal((await send(proxy.port, 'unknown.test')).status, 404, 'the worker is still serving');
  });
});

