// A request body as it arrives from the client: framed by Content-Length or chunked (the
// chunked framing removed here, re-framed by the exchange), counted against the site's
// body_limit_bytes before a byte past it is forwarded, and handed over slice by slice.
import type { ProxyReply } from '../responses.ts';
import { BODY_TOO_LARGE_REPLY } from '../upstream-errors.ts';
import { ChunkedDecoder } from './chunked.ts';
import type { BodyFraming, RequestHead } from './message.ts';
import { requestBodyFraming } from './parser.ts';

/** Where the body goes (the exchange). */
export interface BodySink {
  bodyData(chunk: Buffer): void;
  bodyEnd(): void;
  /** The body is refused (over the limit, bad chunked framing): answer with `reply`. */
  abandon(reply: ProxyReply, code: string): void;
}

export class RequestBody {
  /** True once the body is complete (or refused), and for a request without one. */
  done = true;
  #framing: BodyFraming = 'none';
  #remaining = 0;
  #seen = 0;
  #limit: number | undefined;
  #decoder: ChunkedDecoder | undefined;
  #sink: BodySink | undefined;

  /** Starts on a new request head. */
  start(head: RequestHead): void {
    this.#framing = requestBodyFraming(head);
    this.done = this.#framing === 'none' || (this.#framing === 'length' && head.contentLength === 0);
    this.#remaining = head.contentLength;
    this.#seen = 0;
    this.#sink = undefined;
  }

  /** Where the body goes, and the site's limit. */
  attach(sink: BodySink, limitBytes: number | undefined): void {
    this.#sink = sink;
    this.#limit = limitBytes;
  }

  /** Hands body bytes in buffer[start, end) to the sink; returns where the body ended. */
  feed(buffer: Buffer, start: number, end: number): number {
    const sink = this.#sink;
    if (this.done || sink === undefined) return start;
    if (this.#framing === 'length') {
      const take = Math.min(this.#remaining, end - start);
      this.#remaining -= take;
      if (take > 0) sink.bodyData(buffer.subarray(start, start + take));
      if (this.#remaining === 0) this.#end(sink);
      return start + take;
    }
    const decoder = (this.#decoder ??= new ChunkedDecoder());
    const stop = decoder.decode(buffer, start, end, this.#onChunk);
    if (typeof stop !== 'number') {
      this.done = true;
      decoder.reset();
      sink.abandon({ status: stop.status, message: stop.reason }, stop.code);
      return end;
    }
    if (decoder.done && !this.done) this.#end(sink);
    return stop;
  }

  readonly #onChunk = (chunk: Buffer): void => {
    const sink = this.#sink;
    if (this.done || sink === undefined) return;
    this.#seen += chunk.length;
    if (this.#limit !== undefined && this.#seen > this.#limit) {
      this.done = true;
      sink.abandon(BODY_TOO_LARGE_REPLY, 'ERR_BODY_LIMIT');
      return;
    }
    sink.bodyData(chunk);
  };

  #end(sink: BodySink): void {
    this.done = true;
    this.#decoder?.reset();
    sink.bodyEnd();
  }
}
