// A refusal the client may not have finished sending into (a bad chunk size mid-body, a bad
// head): the proxy answers, then must not close in a way that destroys its own answer. Closing a
// socket that still receives bytes makes the kernel reset the connection, and a client whose
// next write meets that reset before it has read the answer loses it: it sees a close with no
// reply. This is what a slow client (a loaded machine) hit in the conformance run. The client
// here is made slow on purpose: it blocks its own event loop, so nothing it receives is read
// until its writes are done.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_LINGER_MS, DEADLINE_TICK_MS } from '../src/proxy/limits.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { RawClient, statusOf } from './helpers/raw-http.ts';
import { startRecordingUpstream, type RecordingUpstream } from './helpers/recording-upstream.ts';

const HEAD = 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n';
/** 15 hex digits: refused as ERR_CHUNK_SIZE once the 15th digit arrives. */
const BAD_SIZE_LINE = '000000000000005\r\n';
/** Long enough for the proxy to read, refuse and (before the fix) close; short on a quiet box. */
const CLIENT_STALL_MS = 500;
/** Time for a reset caused by the previous write to come back over loopback. */
const RESET_WAIT_MS = 200;

/** Blocks this process's event loop: whatever arrives meanwhile stays unread in the kernel. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('the proxy lingers after a refusal so a client still sending gets the answer', () => {
  let upstream: RecordingUpstream;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await startRecordingUpstream();
    proxy = await startProxy({ config: `[[sites]]\ndefault = true\nupstream = "${upstream.url}"\n`, accessLog: false });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  for (const [name, first, rest] of [
    ['a bad chunk size in the body', HEAD + BAD_SIZE_LINE, ['hello\r\n', '0\r\n\r\n']],
    ['a refused head', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', ['GET /next HTTP/1.1\r\n', 'Host: example.test\r\n\r\n']],
  ] as const) {
    it(`${name}: a client that writes on before reading still reads the 400`, async () => {
      const client = await RawClient.open(proxy.port);
      client.write(first);
      stall(CLIENT_STALL_MS); // the proxy answers and closes its side meanwhile
      client.write(rest[0]); // reaches a socket the proxy no longer reads from: a reset, unless it lingers
      stall(RESET_WAIT_MS);
      client.write(rest[1]); // a write that meets a reset destroys the client socket, unread answer and all
      const response = await client.response();
      assert.ok(response, `no response; the client received ${JSON.stringify(client.received)}${client.isClosed ? ' (closed)' : ''}`);
      assert.equal(statusOf(response), 400);
      assert.ok(await client.closesWithin(2_000), 'the connection is closed once the client has seen the answer');
      assert.deepEqual(upstream.requests.map((r) => r.startLine), [], 'nothing complete reached the upstream');
    });
  }

  it(`a client that never closes after the refusal is closed by the proxy after CLIENT_LINGER_MS (${CLIENT_LINGER_MS} ms)`, async () => {
    // allowHalfOpen: the client does not answer the proxy's FIN with its own, as a hostile one would.
    const socket = connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.setEncoding('latin1');
    let received = '';
    socket.on('data', (chunk: string) => (received += chunk));
    const ended = new Promise<void>((resolve) => socket.once('end', resolve));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(HEAD + BAD_SIZE_LINE);
    await ended; // the proxy's FIN: the answer is complete
    assert.match(received, /^HTTP\/1\.1 400 /);
    // Only a write shows the client that the proxy has closed its reading side too (a reset).
    const finAt = performance.now();
    const writer = setInterval(() => socket.write('x'), 100);
    const bound = CLIENT_LINGER_MS + 2 * DEADLINE_TICK_MS + 10_000;
    const outcome = await Promise.race([closed.then(() => 'closed'), sleep(bound).then(() => 'still open')]);
    clearInterval(writer);
    socket.destroy();
    assert.equal(outcome, 'closed', `the proxy still read ${Math.round(performance.now() - finAt)} ms after its answer`);
  });
});
