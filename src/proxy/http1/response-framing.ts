// Where one upstream response ends: its head (which may arrive over several reads), then its
// body by Content-Length, chunked coding or connection close. Bytes in, slices and verdicts out;
// the connection (upstream-connection.ts) decides what a head means for the exchange and whether
// the connection can be reused.
import { RESPONSE_HEAD_LIMITS } from '../limits.ts';
import { ChunkedDecoder } from './chunked.ts';
import type { BodyFraming, ParseError, ResponseHead } from './message.ts';
import { findHeadEnd, parseResponseHead, responseBodyFraming } from './parser.ts';

/** A complete head, and where the bytes after it are: bytes[at, end). */
export interface HeadRead {
  readonly head: ResponseHead;
  /** The read's buffer, or a new one when the head began in an earlier read. */
  readonly bytes: Buffer;
  readonly at: number;
  readonly end: number;
}

export class ResponseFraming {
  /** 'head' until a final head has set the body's framing. */
  framing: BodyFraming | 'head' = 'head';
  #partialHead: Buffer | undefined;
  #remaining = 0;
  #decoder: ChunkedDecoder | undefined;

  /** The next response starts: expect a head. */
  reset(): void {
    this.framing = 'head';
  }

  /**
   * Looks for a head in buffer[start, end) after what earlier reads left; undefined when it is
   * not complete yet (the bytes are kept, as a copy: the read buffer is recycled).
   */
  readHead(buffer: Buffer, start: number, end: number): HeadRead | ParseError | undefined {
    let bytes = buffer;
    let from = start;
    if (this.#partialHead !== undefined) {
      from = Math.max(0, this.#partialHead.length - 3);
      bytes = Buffer.concat([this.#partialHead, buffer.subarray(start, end)]);
      start = 0;
      end = bytes.length;
      this.#partialHead = undefined;
    }
    const headEnd = findHeadEnd(bytes, start, from, end, RESPONSE_HEAD_LIMITS, 'response');
    if (typeof headEnd !== 'number') return headEnd;
    if (headEnd === -1) {
      this.#partialHead = Buffer.from(bytes.subarray(start, end));
      return undefined;
    }
    const head = parseResponseHead(bytes, start, headEnd, RESPONSE_HEAD_LIMITS);
    return 'code' in head ? head : { head, bytes, at: headEnd, end };
  }

  /** A final head for a request of `method`: how its body is framed. */
  expectBody(head: ResponseHead, method: string): BodyFraming {
    const framing = responseBodyFraming(head, method);
    this.framing = framing;
    if (framing === 'length') this.#remaining = head.contentLength;
    if (framing === 'chunked') {
      this.#decoder ??= new ChunkedDecoder();
      this.#decoder.reset();
    }
    return framing;
  }

  /** After a 101 every byte belongs to the tunnel, until close. */
  expectTunnel(): void {
    this.framing = 'close';
  }

  /** The head just read announced no body (HEAD, 204, 304, Content-Length: 0). */
  get bodyless(): boolean {
    return this.framing === 'none' || (this.framing === 'length' && this.#remaining === 0);
  }

  /**
   * Hands the body bytes in buffer[start, end) to `onData` (views into buffer); returns where
   * this response's bytes stop, and `done` once its body is complete.
   */
  readBody(buffer: Buffer, start: number, end: number, onData: (chunk: Buffer) => void): { stop: number; done: boolean } | ParseError {
    if (this.framing === 'close') {
      onData(buffer.subarray(start, end));
      return { stop: end, done: false };
    }
    if (this.framing === 'length') {
      const take = Math.min(this.#remaining, end - start);
      this.#remaining -= take;
      onData(buffer.subarray(start, start + take));
      return { stop: start + take, done: this.#remaining === 0 };
    }
    const decoder = this.#decoder as ChunkedDecoder;
    const stop = decoder.decode(buffer, start, end, onData);
    if (typeof stop !== 'number') return stop;
    return { stop, done: decoder.done };
  }
}
