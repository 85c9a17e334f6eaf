// HTTP/1.1 spoken by hand over raw `net` sockets, for tests that must control or see every byte:
// a minimal message framer (deliberately independent of src/proxy/http1, which it is used to
// test) and a client connection that writes exact bytes, reads responses one by one or waits for
// a pattern, and notices (and says when) the proxy closed the connection.
import { connect, type Socket } from 'node:net';

export interface RawMessage {
  /** `GET / HTTP/1.1` or `HTTP/1.1 200 OK`. */
  startLine: string;
  /** Fields as received, in order. */
  headers: [string, string][];
  /** The body, de-chunked. */
  body: string;
  /** Every byte of the message as received (latin1). */
  raw: string;
}

/** The body recorded for a message whose chunked framing does not parse (a test seeing it has found a relay of bad framing). */
export const INVALID_CHUNKED_BODY = '<invalid chunked framing>';

export const statusOf = (message: RawMessage): number => Number(message.startLine.split(' ')[1]);

/** Values of every field named `name` (any case). */
export const fieldValues = (message: RawMessage, name: string): string[] =>
  message.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

/**
 * The first complete message at the start of `data`, and what follows it; undefined while it is
 * incomplete. `bodyless` for responses to HEAD and 1xx/204/304. A message with neither length
 * nor chunked framing has no body if it is a request, and ends at the close if a response
 * (pass `closed` once the peer has closed).
 */
export function takeMessage(data: string, kind: 'request' | 'response', options: { bodyless?: boolean; closed?: boolean } = {}): { message: RawMessage; rest: string } | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [startLine = '', ...lines] = data.slice(0, headEnd).split('\r\n');
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const partial: RawMessage = { startLine, headers, body: '', raw: '' };
  const status = kind === 'response' ? statusOf(partial) : 0;
  let bodyStart = headEnd + 4;
  const finish = (body: string, end: number) => ({ message: { ...partial, body, raw: data.slice(0, end) }, rest: data.slice(end) });
  if (options.bodyless || (status >= 100 && status < 200) || status === 204 || status === 304) return finish('', bodyStart);
  if (fieldValues(partial, 'transfer-encoding').some((v) => v.toLowerCase().includes('chunked'))) {
    let body = '';
    for (;;) {
      const lineEnd = data.indexOf('\r\n', bodyStart);
      if (lineEnd === -1) return undefined;
      const sizeText = data.slice(bodyStart, lineEnd).split(';')[0]!.trim();
      const size = /^[0-9a-fA-F]{1,14}$/.test(sizeText) ? parseInt(sizeText, 16) : NaN;
      if (Number.isNaN(size)) return finish(INVALID_CHUNKED_BODY, data.length);
      if (size === 0) {
        const trailersEnd = data.indexOf('\r\n\r\n', lineEnd);
        const emptyTrailers = data.startsWith('\r\n', lineEnd + 2);
        if (emptyTrailers) return finish(body, lineEnd + 4);
        return trailersEnd === -1 ? undefined : finish(body, trailersEnd + 4);
      }
      if (data.length < lineEnd + 2 + size + 2) return undefined;
      body += data.slice(lineEnd + 2, lineEnd + 2 + size);
      bodyStart = lineEnd + 2 + size + 2;
    }
  }
  const length = fieldValues(partial, 'content-length')[0];
  if (length !== undefined) {
    const end = bodyStart + Number(length);
    return data.length < end ? undefined : finish(data.slice(bodyStart, end), end);
  }
  if (kind === 'request') return finish('', bodyStart);
  return options.closed ? finish(data.slice(bodyStart), data.length) : undefined;
}

/**
 * Writes `bytes` in pieces of 1 to `maxPiece` bytes (sizes from `next`, a seeded random source),
 * a millisecond apart with Nagle off, so the peer reads them apart as far as the kernel allows.
 */
export async function writeInPieces(socket: Socket, bytes: string, maxPiece: number, next: () => number): Promise<void> {
  socket.setNoDelay(true);
  for (let i = 0; i < bytes.length && socket.writable; ) {
    const n = 1 + Math.floor(next() * maxPiece);
    socket.write(Buffer.from(bytes.slice(i, i + n), 'latin1'));
    i += n;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** How long `waitFor` waits for its pattern by default (a busy machine is slow). */
export const WAIT_FOR_MS = 15_000;

/** A client connection to 127.0.0.1 that writes exact bytes and reads what comes back. */
export class RawClient {
  readonly socket: Socket;
  /** Every byte received so far (latin1). */
  received = '';
  /** Set once the peer has closed (or reset) the connection. */
  isClosed = false;
  /** Resolves once the peer has closed the connection, with everything it sent. */
  readonly closed: Promise<string>;
  #unread = '';
  #wake: () => void = () => undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.#unread += chunk;
      this.#wake();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      this.#wake();
      resolve(this.received);
    }));
    socket.on('error', () => undefined); // a reset is a close here; tests look at isClosed
  }

  /** Connects, and writes `bytes` first when given. */
  static open(port: number, bytes?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        const client = new RawClient(socket);
        if (bytes !== undefined) client.write(bytes);
        resolve(client);
      });
      socket.once('error', reject);
    });
  }

  write(bytes: string): void {
    this.socket.write(Buffer.from(bytes, 'latin1'));
  }

  /**
   * The next final response (1xx interim responses are skipped), or undefined if the connection
   * closes first or nothing complete arrives within `timeoutMs`.
   */
  async response(options: { requestMethod?: string; timeoutMs?: number } = {}): Promise<RawMessage | undefined> {
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    for (;;) {
      const taken = takeMessage(this.#unread, 'response', { bodyless: options.requestMethod === 'HEAD', closed: this.isClosed });
      if (taken !== undefined) {
        this.#unread = taken.rest;
        const status = statusOf(taken.message);
        if (status >= 100 && status < 200 && status !== 101) continue;
        return taken.message;
      }
      if (this.isClosed || !(await this.#until(deadline))) return undefined;
    }
  }

  /** Everything received, once it matches `pattern`; throws if the connection closes or `timeoutMs` passes first. */
  async waitFor(pattern: RegExp, timeoutMs = WAIT_FOR_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.received)) {
      if (this.isClosed || !(await this.#until(deadline))) {
        if (pattern.test(this.received)) break;
        throw new Error(`${pattern} not received${this.isClosed ? ' before the close' : ` within ${timeoutMs} ms`}; got ${JSON.stringify(this.received.slice(0, 300))}`);
      }
    }
    return this.received;
  }

  /** Whether the peer closes the connection within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isClosed) if (!(await this.#until(deadline))) return false;
    return true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Waits for more data or the close; false once the deadline has passed. */
  #until(deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), left);
      this.#wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}

/** Sends `bytes` on a new connection and resolves with everything received until the proxy closes it. */
export async function rawRoundTrip(port: number, bytes: string): Promise<string> {
  return (await RawClient.open(port, bytes)).closed;
}
