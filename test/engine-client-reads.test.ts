// Plain client sockets share one read buffer per worker (src/proxy/http1/client-reads.ts).
// First the mechanism itself, in-process: the accepted handle really moves into a socket that
// reads into the shared buffer, and the server's connection count stays right (the Node fields
// this relies on are undocumented: these tests are what notices if the pinned Node moves them).
// Then what sharing must never do, on the real binary: mix up bytes of concurrent uploads or
// tunnels whose upstream reads slowly (so bytes queue on the upstream socket while other reads
// arrive), or of a head that arrives in pieces between other clients' reads. A connection that
// streams reads into buffers of its own, whose bytes go upstream without a copy: in-process, that
// those buffers are used when they should be and come back only once written.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFromClient, type ClientStream } from '../src/proxy/http1/client-reads.ts';
import { CLIENT_BODY_READ_BUFFER_BYTES, CLIENT_READ_BUFFER_BYTES } from '../src/proxy/limits.ts';
import { createListener } from '../src/proxy/listeners.ts';
import { TlsTerminator } from '../src/proxy/tls-terminator.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { RawClient } from './helpers/raw-http.ts';
import { until } from './helpers/until.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Bytes each client sends through its tunnel. */
const TUNNEL_BYTES = 4 * 1024 * 1024;

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

describe('plain listener: the accepted socket reads into the shared buffer', () => {
  it('delivers every connection its own bytes in one shared buffer, and keeps the connection count right', async () => {
    const streams: ClientStream[] = [];
    const received = new Map<ClientStream, Buffer[]>();
    const arrayBuffers = new Set<ArrayBufferLike>();
    const server = createListener({ address: '127.0.0.1', port: 0, tls: false }, 1_000, new TlsTerminator(), {
      accepted: () => undefined,
      ready: (stream) => {
        streams.push(stream);
        received.set(stream, []);
        // The listener allows half-open connections: the client's FIN alone closes nothing.
        stream.socket.on('end', () => stream.socket.end());
        stream.onChunk((chunk) => {
          arrayBuffers.add(chunk.buffer);
          // Lent for this call only: keep a copy, as every consumer must.
          received.get(stream)?.push(Buffer.from(chunk));
          stream.socket.write(`got ${chunk.length}\n`);
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const clients = await Promise.all([0, 1, 2].map(() => connected(port)));
    await until(() => streams.length === 3, 'three accepted connections', 2_000);
    assert.equal(await connectionCount(server), 3);

    const payloads = clients.map((_, i) => Buffer.from(`client ${i}: ${'x'.repeat(100 * (i + 1))}`));
    for (const [i, client] of clients.entries()) client.write(payloads[i] as Buffer);
    await until(() => streams.every((s) => Buffer.concat(received.get(s) ?? []).length > 0 && Buffer.concat(received.get(s) ?? []).length === payloads[streams.indexOf(s)]?.length), 'every payload', 2_000);

    const byContent = streams.map((s) => Buffer.concat(received.get(s) ?? []).toString()).sort();
    assert.deepEqual(byContent, payloads.map((p) => p.toString()).sort());
    assert.equal(arrayBuffers.size, 1, 'all three connections read into one buffer');
    // The socket handed over really writes (the handle moved, not copied).
    const reply = await new Promise<string>((resolve) => clients[0]?.once('data', (d: Buffer) => resolve(d.toString())));
    assert.match(reply, /^got \d+\n/);

    for (const client of clients) client.destroy();
    await until(async () => (await connectionCount(server)) === 0, 'the count to drop to 0', 2_000);
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });
});

describe('plain listener: a streaming connection reads into buffers of its own', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function listening(server: Server): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** A client connected to a listener whose connections stream (or never do); each chunk goes to `onChunk`. */
  async function streamingClient(onChunk: (chunk: Buffer) => void, streaming = true): Promise<Socket> {
    const server = createListener({ address: '127.0.0.1', port: 0, tls: false }, 1_000, new TlsTerminator(), {
      accepted: () => undefined,
      ready: (stream) => {
        sockets.push(stream.socket);
        stream.streamsWhile(() => streaming);
        stream.onChunk(onChunk);
      },
    });
    const client = await connected(await listening(server));
    sockets.push(client);
    return client;
  }

  /** A connection to a sink that reads nothing until resumed, so writes queue past what the kernel takes. */
  async function stalledSink(): Promise<{ upstream: Socket; resume(): void; arrived(): Buffer; arrivedBytes(): number }> {
    let sink: Socket | undefined;
    const arrived: Buffer[] = [];
    let arrivedBytes = 0;
    const sinkServer = createNetServer((socket) => {
      sockets.push(socket);
      sink = socket;
      socket.pause();
      // Paused explicitly, a 'data' listener does not start the flow.
      socket.on('data', (chunk: Buffer) => {
        arrived.push(chunk);
        arrivedBytes += chunk.length;
      });
    });
    const upstream = await connected(await listening(sinkServer));
    sockets.push(upstream);
    await until(() => sink !== undefined, 'the sink to accept', 2_000);
    return { upstream, resume: () => sink?.resume(), arrived: () => Buffer.concat(arrived), arrivedBytes: () => arrivedBytes };
  }

  it('reads into a buffer of its own after a large read, and into the shared one again after a small one', async () => {
    const reads: ArrayBufferLike[] = [];
    let total = 0;
    const client = await streamingClient((chunk) => {
      reads.push(chunk.buffer);
      total += chunk.length;
    });
    client.write(randomBytes(1024 * 1024));
    await until(() => total === 1024 * 1024, '1 MiB through', 5_000);
    const shared = reads[0] as ArrayBufferLike;
    assert.equal(shared.byteLength, CLIENT_READ_BUFFER_BYTES, 'the first read is in the shared buffer');
    const own = reads.filter((buffer) => buffer !== shared);
    assert.ok(own.length > 0, 'later reads are in a buffer of its own');
    assert.ok(own.every((buffer) => buffer.byteLength === CLIENT_BODY_READ_BUFFER_BYTES));
    assert.equal(new Set(own).size, 1, 'a read nobody kept leaves its buffer for the next read');
    for (const expected of [total + 10, total + 20]) {
      client.write('x'.repeat(10));
      await until(() => total === expected, 'ten more bytes', 5_000);
    }
    assert.equal(reads.at(-1), shared, 'after a small read the next one is in the shared buffer');
  });

  it('keeps a read written upstream out of every other read until the write completed, then gives its buffer back', async () => {
    const sink = await stalledSink();
    const upstream = sink.upstream;
    /** The buffers of its own each client read into. */
    const ownBuffers = [new Set<ArrayBufferLike>(), new Set<ArrayBufferLike>()];
    let total = 0;
    const writingClient = (own: Set<ArrayBufferLike>) =>
      streamingClient((chunk) => {
        if (chunk.buffer.byteLength === CLIENT_BODY_READ_BUFFER_BYTES) own.add(chunk.buffer);
        total += chunk.length;
        writeFromClient(upstream, chunk);
      });
    const [firstOwn, secondOwn] = ownBuffers as [Set<ArrayBufferLike>, Set<ArrayBufferLike>];
    const client = await writingClient(firstOwn);
    const first = randomBytes(16 * 1024 * 1024);
    client.write(first);
    await until(() => total === first.length, '16 MiB through', 10_000);
    assert.ok(upstream.writableLength > 0, 'writes are queued on the stalled socket');
    assert.ok(firstOwn.size > 1, 'a read whose bytes are still queued makes the next read take another buffer');

    sink.resume();
    await until(() => sink.arrivedBytes() === first.length && upstream.writableLength === 0, 'the queued bytes to arrive', 10_000);
    // A buffer given back while its bytes were queued would have been read into again.
    assert.ok(sink.arrived().equals(first), 'the sink got the bytes as sent');

    // Another connection now takes its buffer from the free list: one the first one gave back.
    const other = await writingClient(secondOwn);
    const second = randomBytes(1024 * 1024);
    other.write(second);
    await until(() => sink.arrivedBytes() === first.length + second.length, 'the next 1 MiB through', 10_000);
    assert.ok(secondOwn.size > 0);
    assert.ok([...secondOwn].every((buffer) => firstOwn.has(buffer)), 'written buffers came back to the free list once flushed');
    assert.ok(sink.arrived().subarray(first.length).equals(second));
  });

  it('copies what it writes upstream from the shared buffer, when the connection does not stream', async () => {
    const sink = await stalledSink();
    const buffers = new Set<ArrayBufferLike>();
    let total = 0;
    const client = await streamingClient((chunk) => {
      buffers.add(chunk.buffer);
      total += chunk.length;
      writeFromClient(sink.upstream, chunk);
    }, false);
    const sent = randomBytes(16 * 1024 * 1024);
    client.write(sent);
    await until(() => total === sent.length, '16 MiB through', 10_000);
    assert.equal(buffers.size, 1, 'every read in the shared buffer');
    sink.resume();
    await until(() => sink.arrivedBytes() === sent.length, 'the queued bytes to arrive', 10_000);
    assert.ok(sink.arrived().equals(sent), 'the sink got the bytes as sent');
  });
});

describe('the shared read buffer on the real binary', () => {
  let proxy: ProxyProcess;
  let upstream: HttpServer;

  before(async () => {
    // Reads nothing of a body for its first 300 ms, then slowly, so the kernel's buffers fill
    // and the proxy's writes to it queue while other clients' reads keep arriving; answers the
    // body's SHA-256.
    upstream = createServer((req, res) => {
      const hash = createHash('sha256');
      req.pause();
      setTimeout(() => req.resume(), 300);
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        req.pause();
        setTimeout(() => req.resume(), 1);
      });
      req.on('end', () => res.end(hash.digest('hex')));
    });
    // The same after an upgrade: the tunnel's first TUNNEL_BYTES, stalled then read slowly.
    upstream.on('upgrade', (_req, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: test\r\n\r\n');
      const hash = createHash('sha256');
      let seen = 0;
      socket.pause();
      setTimeout(() => socket.resume(), 300);
      socket.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        seen += chunk.length;
        if (seen === TUNNEL_BYTES) socket.end(hash.digest('hex'));
        socket.pause();
        setTimeout(() => socket.resume(), 1);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    proxy = await startProxy({ config: `[[sites]]\nhost = "app.test"\nupstream = "http://127.0.0.1:${port}"\nbody_limit_bytes = 16777216\n` });
  });

  after(async () => {
    await proxy?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  async function upload(body: Buffer, chunked: boolean): Promise<string> {
    const client = await RawClient.open(proxy.port);
    const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${body.length}`;
    client.socket.write(`POST /upload HTTP/1.1\r\nhost: app.test\r\n${framing}\r\nconnection: close\r\n\r\n`);
    // Pieces of varying size, so reads of different clients interleave at odd offsets.
    for (let at = 0, i = 0; at < body.length; i++) {
      const size = Math.min(body.length - at, 1 + ((i * 7919) % 90_000));
      const piece = body.subarray(at, at + size);
      const bytes = chunked ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
      if (!client.socket.write(bytes)) await new Promise((resolve) => client.socket.once('drain', resolve));
      at += size;
    }
    if (chunked) client.socket.write('0\r\n\r\n');
    const reply = await client.closed;
    assert.match(reply, /^HTTP\/1\.1 200 /);
    return reply.slice(reply.indexOf('\r\n\r\n') + 4);
  }

  it('relays concurrent uploads to a slow reader byte for byte (8 clients × 8 MiB, length and chunked)', { timeout: 60_000 }, async () => {
    const bodies = Array.from({ length: 8 }, () => randomBytes(8 * 1024 * 1024));
    const hashes = await Promise.all(bodies.map((body, i) => upload(body, i % 2 === 1)));
    assert.deepEqual(hashes, bodies.map(sha256));
  });

  it('keeps a head that arrives in pieces intact while other connections read', { timeout: 30_000 }, async () => {
    const busy = Array.from({ length: 4 }, () => randomBytes(512 * 1024));
    const uploads = Promise.all(busy.map((body) => upload(body, false)));
    const body = randomBytes(1_000);
    const client = await RawClient.open(proxy.port);
    const request = Buffer.concat([Buffer.from(`POST /upload HTTP/1.1\r\nhost: app.test\r\nx-long: ${'h'.repeat(3_000)}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`), body]);
    for (let at = 0; at < request.length; at += 97) {
      client.socket.write(request.subarray(at, at + 97));
      await sleep(1);
    }
    const reply = await client.closed;
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.equal(reply.slice(reply.indexOf('\r\n\r\n') + 4), sha256(body));
    assert.deepEqual(await uploads, busy.map(sha256));
  });

  async function throughTunnel(bytes: Buffer): Promise<string> {
    const client = await RawClient.open(proxy.port, 'GET /tunnel HTTP/1.1\r\nhost: app.test\r\nconnection: upgrade\r\nupgrade: test\r\n\r\n');
    await client.waitFor(/\r\n\r\n/);
    assert.match(client.received, /^HTTP\/1\.1 101 /);
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const size = Math.min(bytes.length - at, 1 + ((i * 6007) % 70_000));
      if (!client.socket.write(bytes.subarray(at, at + size))) await new Promise((resolve) => client.socket.once('drain', resolve));
      at += size;
    }
    const all = await client.closed;
    return all.slice(all.indexOf('\r\n\r\n') + 4);
  }

  it('relays concurrent tunnels to a slow reader byte for byte (4 clients × 4 MiB after a 101)', { timeout: 60_000 }, async () => {
    const payloads = Array.from({ length: 4 }, () => randomBytes(TUNNEL_BYTES));
    assert.deepEqual(await Promise.all(payloads.map(throughTunnel)), payloads.map(sha256));
  });
});
