// An upstream on 127.0.0.1 written on raw sockets, for tests that need what a real HTTP server
// library would not do: answer with exact bytes, close idle connections without a word, or
// count the sockets the proxy opens.
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface RawRequest {
  /** The head as received, up to and including the empty line. */
  head: string;
  /** The connection it came on, numbered from 0 in accept order. */
  connection: number;
  /** Requests this connection had carried before this one. */
  previous: number;
}

export interface RawUpstream {
  url: string;
  port: number;
  requests: RawRequest[];
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Most connections open at the same time so far. */
  readonly peakOpen: number;
  close(): Promise<void>;
}

/**
 * `answer` is called for every request head (bodies are not read: use body-less requests) and
 * writes the response itself on `socket`.
 */
export async function startRawUpstream(answer: (socket: Socket, request: RawRequest) => void): Promise<RawUpstream> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  let peakOpen = 0;
  const server = createServer((socket) => {
    const connection = accepted++;
    sockets.add(socket);
    peakOpen = Math.max(peakOpen, sockets.size);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    let buffered = '';
    let previous = 0;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const request = { head: buffered.slice(0, end + 4), connection, previous: previous++ };
        buffered = buffered.slice(end + 4);
        requests.push(request);
        answer(socket, request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get accepted() {
      return accepted;
    },
    get peakOpen() {
      return peakOpen;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A minimal keep-alive 200 with a body. */
export function okResponse(body = 'ok', extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}
