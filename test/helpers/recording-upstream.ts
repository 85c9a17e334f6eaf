// An upstream over a raw `net` server that records every byte the proxy sends it and answers
// each complete request with exact bytes, one request at a time per connection. For tests of
// what reaches the upstream (nothing, for a refused request) and of invalid upstream answers.
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
  answer: (request: RawMessage) => RawAnswer;
  /** Bytes received on every connection since the last reset. */
  bytesReceived(): number;
  /** Closes every connection and forgets what was received. */
  reset(): void;
  close(): Promise<void>;
}

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const sockets = new Set<Socket>();
  let received = 0;
  const upstream: RecordingUpstream = {
    port: 0,
    url: '',
    requests: [],
    events: [],
    answer: echoTarget,
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
    sockets.add(socket);
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
      const answer = upstream.answer(request);
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      if (socket.destroyed) return;
      upstream.events.push(`answered ${target}`);
      if (answer.inPieces) await writeInPieces(socket, answer.bytes, answer.inPieces.maxBytes, answer.inPieces.next);
      else socket.write(Buffer.from(answer.bytes, 'latin1'));
      if (answer.close) socket.end();
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
