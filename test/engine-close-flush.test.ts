// A response that ends while the client is still behind, on a connection that then closes
// (the client sent `Connection: close`): everything the proxy relayed must reach the client
// before the close. The last upstream read of such a response is written from its own read
// buffer, which goes back to the free list once the client socket has flushed it; the socket is
// already ended by then, and asking it to say when (an empty write after end) used to fail the
// socket and drop the response's tail (seen as a 1 GiB download cut short under load).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { giveBackWhenFlushed, takeReadBuffer } from '../src/proxy/http1/read-buffers.ts';
import { startProxy } from './helpers/proxy-process.ts';
import { startUpstream } from './helpers/upstream.ts';

const BODY_BYTES = 8 * 1024 * 1024;
/** The client takes its bytes a little at a time: the proxy's writes to it stay queued. */
const READ_EVERY_MS = 2;
/** Written to a peer that does not read: far more than loopback's socket buffers hold. */
const QUEUED_BYTES = 32 * 1024 * 1024;

test('a response that ends while the client is behind: every byte arrives before the connection closes', async (t) => {
  const body = Buffer.alloc(BODY_BYTES, 0x62);
  const upstream = await startUpstream((_req, res) => res.writeHead(200, { 'content-length': String(body.length) }).end(body));
  t.after(() => upstream.close());
  const proxy = await startProxy({ t, accessLog: false, config: `[[sites]]\nhost = "big.test"\nupstream = "${upstream.url}"\n` });

  const received = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect(proxy.port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      socket.pause();
      setTimeout(() => socket.resume(), READ_EVERY_MS);
    });
    socket.on('end', () => resolve(Buffer.concat(parts)));
    socket.on('error', reject);
    socket.write('GET /big HTTP/1.1\r\nHost: big.test\r\nConnection: close\r\n\r\n');
  });
  const headEnd = received.indexOf('\r\n\r\n') + 4;
  assert.match(received.subarray(0, headEnd).toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(received.length - headEnd, BODY_BYTES, 'the whole body, then the close');
});

/** A connected pair on loopback: `writer` writes to a peer that reads only when told. */
async function socketPair(t: TestContext): Promise<{ writer: Socket; peer: Socket }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const writer = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(writer, 'connect');
  const peer = await accepted;
  peer.pause();
  t.after(() => (writer.destroy(), peer.destroy()));
  return { writer, peer };
}

test('a lent buffer on a socket already ended comes back once the socket has flushed, and the socket keeps its queue', async (t) => {
  const { writer, peer } = await socketPair(t);
  // More than loopback's socket buffers take while the peer does not read: some stays queued.
  const queued = Buffer.alloc(QUEUED_BYTES, 0x61);
  writer.write(queued);
  writer.end();
  assert.ok(writer.writableLength > 0, 'bytes are still queued on the ended socket');
  const lent = takeReadBuffer();
  giveBackWhenFlushed(writer, lent);
  let read = 0;
  peer.on('data', (chunk: Buffer) => (read += chunk.length));
  peer.resume();
  await once(peer, 'end');
  assert.equal(read, QUEUED_BYTES, 'every queued byte reached the peer');
  assert.equal(writer.errored, null, 'the socket did not fail');
  if (!writer.writableFinished) await once(writer, 'finish');
  assert.equal(takeReadBuffer(), lent, 'the buffer is back on the free list');
});
