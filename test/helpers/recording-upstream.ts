// An upstream over a raw `net` server on 127.0.0.1, for tests that need what an HTTP server
// library would not do. It records every byte the proxy sends it and each complete request, and
// answers each with exact bytes (at once, later, in pieces, then closing), one request at a time
// per connection; or it hands the socket to the test, to answer by hand, close without a word or
// hold. It also counts the connections the proxy keeps open at once.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { takeMessage, writeInPieces, type RawMessage } from './raw-http.ts';

export interface RawAnswer {
  /** The exact bytes written back (latin1). */
  bytes: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Close the connection once the answer is written. */
  close?: boolean;
  /** Write the answer in small pieces (see writeInPieces) rather than at once. */
  inPieces?: { maxBytes: number; next: () => number };
}

/** Where a request came from. */
export interface RequestSource {
  socket: Socket;
  /** The connection it came on, numbered from 0 in accept order. */
  connection: number;
  /** Requests this connection had carried before this one. */
  previous: number;
}

/**
 * How a request is answered: the bytes to write, or undefined when the answerer deals with
 * `from.socket` itself (writes later, destroys it, or never answers); the next request on that
 * connection is then served as soon as it is complete.
 */
export type Answerer = (request: RawMessage, from: RequestSource) => RawAnswer | undefined;

/** A minimal keep-alive 200 with a body. */
export function okResponse(body = 'ok', extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** Answers 200 with the request-target as the body. */
export const echoTarget = (request: RawMessage): RawAnswer => {
  const target = request.startLine.split(' ')[1] ?? '';
  return { bytes: `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(target, 'latin1')}\r\n\r\n${target}` };
};

export interface RecordingUpstream {
  port: number;
  url: string;
  /** Complete requests, in the order they arrived. */
  requests: RawMessage[];
  /** `request <target>` when a request is complete, `answered <target>` as its answer is written: the order of events. */
  events: string[];
  /** How each request is answered; replace it per test. */
  answer: Answerer;
  /** Most connections open at the same time so far. */
  readonly peakOpen: number;
  /** Bytes received on every connection since the last reset. */
  bytesReceived(): number;
  /** Closes every connection and forgets what was received. */
  reset(): void;
  close(): Promise<void>;
}

export async function startRecordingUpstream(answer: Answerer = echoTarget): Promise<RecordingUpstream> {
  const sockets = new Set<Socket>();
  let received = 0;
  let accepted = 0;
  let peakOpen = 0;
  const upstream: RecordingUpstream = {
    port: 0,
    url: '',
    requests: [],
    events: [],
    answer,
    get peakOpen() {
      return peakOpen;
    },
    bytesReceived: () => received,
    reset() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      received = 0;
      upstream.requests.length = 0;
      upstream.events.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer((socket) => {
    const connection = accepted++;
    let previous = 0;
    sockets.add(socket);
    peakOpen = Math.max(peakOpen, sockets.size);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('latin1');
    let unread = '';
    let busy = false;
    const serveNext = async (): Promise<void> => {
      if (busy) return;
      const taken = takeMessage(unread, 'request');
      if (taken === undefined) return;
      busy = true;
      unread = taken.rest;
      const request = taken.message;
      const target = request.startLine.split(' ')[1];
      upstream.requests.push(request);
      upstream.events.push(`request ${target}`);
      const answer = upstream.answer(request, { socket, connection, previous: previous++ });
      if (answer !== undefined) {
        if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
        if (socket.destroyed) return;
        upstream.events.push(`answered ${target}`);
        if (answer.inPieces) await writeInPieces(socket, answer.bytes, answer.inPieces.maxBytes, answer.inPieces.next);
        else socket.write(Buffer.from(answer.bytes, 'latin1'));
        if (answer.close) socket.end();
      }
      busy = false;
      void serveNext();
    };
    socket.on('data', (chunk: string) => {
      received += chunk.length;
      unread += chunk;
      void serveNext();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.address() as AddressInfo).port;
  upstream.url = `http://127.0.0.1:${upstream.port}`;
  return upstream;
}
