// HTTP/1.1 conformance of the real binary, over raw sockets: every case of the corpus in
// test/http1/ is sent byte for byte to a running proxy, and the test checks what the client gets
// back (status, close) and what the upstream received (nothing for a refused request; the exact
// request line, target and body for an accepted one). Upstream side: a raw upstream answers each
// response case, and an invalid one reaches the client only as a 502. Plus pipelining, the
// HTTP/2 preface with a frame after it, and keep-alive after each accepted request.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRefused, type RequestCase, type ResponseCase } from './http1/cases.ts';
import { REQUEST_CASES } from './http1/request-cases.ts';
import { RESPONSE_CASES } from './http1/response-cases.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { fieldValues, RawClient, statusOf, writeInPieces } from './helpers/raw-http.ts';
import { echoTarget, startRecordingUpstream, type RawAnswer, type RecordingUpstream } from './helpers/recording-upstream.ts';
import { seededRandom as random } from './helpers/seeded-random.ts';

/** Time for anything a proxy wrongly forwarded to reach the upstream over loopback. */
const SETTLE_MS = 50;
const CLOSE_WITHIN_MS = 2_000;
/** Cases longer than this are not also sent piece by piece (a millisecond per piece adds up). */
const MAX_PIECEWISE_BYTES = 1_000;
const FINAL_OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

const show = (client: RawClient): string => `${JSON.stringify(client.received.slice(0, 300))}${client.isClosed ? ' (closed)' : ''}`;

describe('HTTP/1.1 conformance of the real binary over raw sockets', () => {
  let upstream: RecordingUpstream;
  let proxy: ProxyProcess;
  const clients: RawClient[] = [];

  const open = async (): Promise<RawClient> => {
    const client = await RawClient.open(proxy.port);
    clients.push(client);
    return client;
  };

  before(async () => {
    upstream = await startRecordingUpstream();
    proxy = await startProxy({ config: `[[sites]]\ndefault = true\nupstream = "${upstream.url}"\n`, accessLog: false });
  });

  after(async () => {
    for (const client of clients) client.destroy();
    await proxy?.stop();
    await upstream?.close();
  });

  beforeEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    upstream.reset();
    upstream.answer = echoTarget;
    await sleep(10); // lets the proxy see the upstream connections close before it reuses one
  });

  async function assertNothingForwarded(): Promise<void> {
    await sleep(SETTLE_MS);
    assert.equal(upstream.bytesReceived(), 0, `the upstream received ${upstream.requests.map((r) => r.startLine).join(' | ') || `${upstream.bytesReceived()} bytes`}`);
  }

  async function checkRequest(c: RequestCase, send: (client: RawClient) => Promise<void> | void = (client) => client.write(c.bytes)): Promise<void> {
    const client = await open();
    const sent = send(client);
    const response = await client.response();
    await sent;
    const expect = c.expect;
    assert.ok(response, `no response; the proxy sent ${show(client)}`);
    const status = statusOf(response);

    if (isRefused(expect)) {
      assert.equal(status, expect.status, `status; the proxy sent ${show(client)}`);
      assert.ok(await client.closesWithin(CLOSE_WITHIN_MS), 'the connection is closed after a refused request');
      if (expect.inBody) {
        await sleep(SETTLE_MS);
        assert.deepEqual(upstream.requests.map((r) => r.startLine), [], 'no complete request reached the upstream');
      } else {
        await assertNothingForwarded();
      }
      return;
    }
    if (expect.answeredByProxy !== undefined) {
      assert.equal(status, expect.answeredByProxy);
      assert.ok(response.body.length > 0, 'the answer has a body');
      await assertNothingForwarded();
      return;
    }
    if (expect.target === '*') {
      assert.ok(status >= 200 && status < 300, `OPTIONS * is answered, got ${status}`);
      for (const seen of upstream.requests) assert.equal(seen.startLine, `${expect.method} * HTTP/1.1`);
      return;
    }

    assert.equal(status, 200, `the upstream's answer is relayed; the proxy sent ${show(client)}`);
    assert.equal(upstream.requests.length, 1, 'one request reached the upstream');
    const seen = upstream.requests[0]!;
    assert.equal(seen.startLine, `${expect.method} ${expect.target} HTTP/1.1`, 'the forwarded request line, byte for byte');
    if (expect.body !== undefined) assert.equal(seen.body, expect.body, 'the forwarded body');
    for (const [name, value] of endToEndFields(expect.headers ?? [])) {
      assert.ok(fieldValues(seen, name).includes(value), `${name}: ${JSON.stringify(value)} forwarded byte for byte; the upstream got ${JSON.stringify(seen.headers)}`);
    }
    if (expect.framing === 'chunked') {
      for (const line of trailerLines(c.bytes)) assert.ok(!seen.raw.includes(line), `trailer ${JSON.stringify(line)} is dropped`);
    }
    if (expect.upgrade !== undefined) {
      // h2c is never offered on; any other protocol is asked of the upstream.
      const wanted = expect.upgrade === 'h2c' ? [] : [expect.upgrade];
      assert.deepEqual(fieldValues(seen, 'upgrade'), wanted, 'Upgrade forwarded');
      if (expect.upgrade === 'h2c') assert.deepEqual(fieldValues(seen, 'http2-settings'), [], 'HTTP2-Settings forwarded');
      return;
    }
    if (!expect.keepAlive) {
      assert.ok(await client.closesWithin(CLOSE_WITHIN_MS), 'the connection is closed after the response');
      return;
    }
    client.write('GET /follow-up HTTP/1.1\r\nHost: example.test\r\n\r\n');
    const next = await client.response();
    assert.ok(next, `the connection stays usable; the proxy sent ${show(client)}`);
    assert.equal(statusOf(next), 200);
    assert.equal(upstream.requests.at(-1)?.startLine, 'GET /follow-up HTTP/1.1');
  }

  async function checkResponse(c: ResponseCase, inPieces?: RawAnswer['inPieces']): Promise<void> {
    const expect = c.expect;
    const interim = !isRefused(expect) && expect.status >= 100 && expect.status < 200 && expect.status !== 101;
    upstream.answer = () => ({ bytes: c.bytes + (interim ? FINAL_OK : ''), close: true, inPieces });
    const method = c.requestMethod ?? 'GET';
    const client = await open();
    client.write(`${method} /upstream-case HTTP/1.1\r\nHost: example.test\r\n\r\n`);
    const response = await client.response({ requestMethod: method });

    if (isRefused(expect) && expect.inBody) {
      // The head may already be relayed; the bad body must then end the client connection
      // before the message looks complete.
      assert.ok(response === undefined || statusOf(response) === 502, `a response with bad framing is relayed as complete: ${show(client)}`);
      assert.ok(await client.closesWithin(CLOSE_WITHIN_MS) || response !== undefined, 'the client connection is closed');
      return;
    }
    assert.ok(response, `no response; the proxy sent ${show(client)}`);
    if (isRefused(expect) || expect.status === 101) {
      // 101 is refused when the request asked for no upgrade.
      assert.equal(statusOf(response), 502, `refused response; the proxy sent ${show(client)}`);
      const relayed = client.received.toLowerCase();
      for (const line of distinctiveLines(c.bytes)) assert.ok(!relayed.includes(line.toLowerCase()), `relayed ${JSON.stringify(line)}`);
      return;
    }
    assert.equal(statusOf(response), interim ? 200 : expect.status);
    assert.equal(response.body, interim ? 'ok' : (expect.body ?? response.body), 'the body as relayed');
  }

  describe('request corpus', () => {
    for (const c of REQUEST_CASES) it(`${c.name} [${c.rule}]`, () => checkRequest(c));
  });

  describe('response corpus (the upstream answers these bytes)', () => {
    for (const c of RESPONSE_CASES) it(`${c.name} [${c.rule}]`, () => checkResponse(c));
  });

  // The same cases arriving a few bytes at a time: the engine's incremental head scan and body
  // decoding must give the same answers (the limit cases of many KiB are left to the parser test).
  describe('request corpus, written a few bytes at a time', () => {
    REQUEST_CASES.forEach((c, i) => {
      if (c.bytes.length > MAX_PIECEWISE_BYTES) return;
      it(`${c.name} [${c.rule}]`, () => checkRequest(c, (client) => writeInPieces(client.socket, c.bytes, 16, random(3_000 + i))));
    });
  });

  describe('response corpus, answered a few bytes at a time', () => {
    RESPONSE_CASES.forEach((c, i) => {
      if (c.bytes.length > MAX_PIECEWISE_BYTES) return;
      it(`${c.name} [${c.rule}]`, () => checkResponse(c, { maxBytes: 16, next: random(4_000 + i) }));
    });
  });

  it('pipelined requests are sent upstream one at a time: the next only after the previous answer, in order', async () => {
    upstream.answer = (request) => ({ ...echoTarget(request), delayMs: request.startLine.includes('/p1 ') ? 300 : 0 });
    const client = await open();
    client.write(['/p1', '/p2', '/p3'].map((path) => `GET ${path} HTTP/1.1\r\nHost: example.test\r\n\r\n`).join(''));
    const bodies: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) bodies.push((await client.response())?.body);
    assert.deepEqual(bodies, ['/p1', '/p2', '/p3'], 'responses in request order');
    assert.deepEqual(upstream.events, ['request /p1', 'answered /p1', 'request /p2', 'answered /p2', 'request /p3', 'answered /p3']);
  });

  it('a pipelined request after a body waits for the previous response too', async () => {
    upstream.answer = (request) => ({ ...echoTarget(request), delayMs: request.startLine.includes('/upload ') ? 200 : 0 });
    const client = await open();
    client.write('POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: example.test\r\n\r\n');
    assert.equal((await client.response())?.body, '/upload');
    assert.equal((await client.response())?.body, '/next');
    assert.deepEqual(upstream.events, ['request /upload', 'answered /upload', 'request /next', 'answered /next']);
    assert.equal(upstream.requests[0]?.body, 'abc');
  });

  it('an HTTP/2 client (preface, then a SETTINGS frame) gets a clean HTTP/1.1 refusal and a close', async () => {
    const client = await open();
    const settingsFrame = '\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64';
    client.write(`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${settingsFrame}`);
    const response = await client.response();
    assert.ok(response, `no response; the proxy sent ${show(client)}`);
    assert.ok([400, 505].includes(statusOf(response)), `status ${statusOf(response)}`);
    assert.match(response.startLine, /^HTTP\/1\.1 /);
    assert.ok(await client.closesWithin(CLOSE_WITHIN_MS), 'closed');
    await assertNothingForwarded();
  });
});

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'transfer-encoding', 'proxy-connection']);

/** The `[name, value, …]` pairs a proxy passes on unchanged. */
function endToEndFields(flat: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) if (!HOP_BY_HOP.has(flat[i]!.toLowerCase())) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}

/** The trailer field lines of a chunked request (after its last chunk). */
function trailerLines(bytes: string): string[] {
  const body = bytes.slice(bytes.indexOf('\r\n\r\n') + 4);
  const lastChunk = body.search(/(^|\r\n)0+(;[^\r]*)?\r\n/);
  return body.slice(lastChunk).replace(/^\r\n/, '').split('\r\n').slice(1).filter((line) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(line));
}

/** Lines of a response head only the upstream could have written (its status line and X- fields). */
function distinctiveLines(bytes: string): string[] {
  const head = bytes.slice(0, bytes.includes('\r\n\r\n') ? bytes.indexOf('\r\n\r\n') : bytes.length);
  const [statusLine = '', ...fields] = head.split(/\r\n|\n/);
  return [statusLine, ...fields.filter((line) => /^X/i.test(line))].filter((line) => line.length > 0);
}
