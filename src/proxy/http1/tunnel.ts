// After `101 Switching Protocols` (WebSocket and friends) the client socket and the upstream
// connection are joined byte for byte, with backpressure both ways, until either side closes;
// then the other is closed too. Tunnels have no idle timeout (nginx's default 60 s
// proxy_read_timeout silently kills quiet WebSockets); TCP keep-alive detects dead peers.
import type { Socket } from 'node:net';
import { writeFromClient } from './client-reads.ts';
import { giveBackWhenFlushed } from './read-buffers.ts';
import type { UpstreamConnection } from './upstream-connection.ts';
import type { ResponseHandler } from './upstream-sides.ts';

export class Tunnel implements ResponseHandler {
  readonly #client: Socket;
  readonly #upstream: UpstreamConnection;

  constructor(client: Socket, upstream: UpstreamConnection) {
    this.#client = client;
    this.#upstream = upstream;
    for (const socket of [client, upstream.socket]) {
      socket.setKeepAlive(true);
      socket.setNoDelay(true);
    }
  }

  /** Bytes the client sent, lent for this call only (client-reads.ts: written as they are or as a copy). */
  fromClient(chunk: Buffer): void {
    const upstream = this.#upstream.socket;
    if (writeFromClient(upstream, chunk)) return;
    this.#client.pause();
    upstream.once('drain', () => this.#client.resume());
  }

  /** The client finished sending: pass the half-close on. */
  clientEnded(): void {
    this.#upstream.socket.end();
  }

  clientClosed(): void {
    this.#upstream.abort();
  }

  onResponseHead(): void {
    // The 101 was the last head of this connection.
  }

  onResponseBody(chunk: Buffer): void {
    if (this.#client.write(chunk)) return;
    this.#upstream.pause();
    this.#client.once('drain', () => this.#upstream.resume());
  }

  onResponseEnd(): void {
    this.#client.destroySoon();
  }

  onResponseError(): void {
    this.#client.destroy();
  }

  readDone(): boolean {
    return this.#client.writableLength > 0;
  }

  adoptReadBuffer(buffer: Buffer): void {
    giveBackWhenFlushed(this.#client, buffer);
  }
}
