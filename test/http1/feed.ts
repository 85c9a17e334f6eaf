// Feeds a corpus case to the parser the way a connection does: bytes arrive in pieces into one
// read buffer, findHeadEnd is re-run from where it left off (its `from`), the head is parsed
// once complete, and the body goes through Content-Length counting or the ChunkedDecoder piece
// by piece. The outcome of any split must equal the outcome of one piece.
import { ChunkedDecoder } from '../../src/proxy/http1/chunked.ts';
import type { BodyFraming, HeadLimits, ParseError, RequestHead, ResponseHead } from '../../src/proxy/http1/message.ts';
import { findHeadEnd, parseRequestHead, parseResponseHead, requestBodyFraming, responseBodyFraming } from '../../src/proxy/http1/parser.ts';

export type Outcome =
  | { kind: 'refused'; refusal: ParseError; inBody: boolean }
  | { kind: 'incomplete' }
  | { kind: 'parsed'; head: RequestHead | ResponseHead; framing: BodyFraming; body: string; end: number };

export interface Side {
  side: 'request' | 'response';
  limits: HeadLimits;
  /** For a response: the method of the request it answers. */
  requestMethod?: string;
}

/** Runs `bytes` split at the sorted offsets `cuts` (empty: one piece). */
export function feed(bytes: Buffer, cuts: number[], how: Side): Outcome {
  const pieces: [number, number][] = [];
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > last) pieces.push([last, cut]);
    last = cut;
  }
  // One read buffer the pieces land in, as a socket read would fill it; bytes past `end` are garbage.
  const buf = Buffer.alloc(bytes.length + 16, 0x41);
  let end = 0;
  let headEnd = -1;
  let piece = 0;
  for (; piece < pieces.length && headEnd === -1; piece++) {
    const [from, to] = pieces[piece]!;
    const previousEnd = end;
    bytes.copy(buf, end, from, to);
    end += to - from;
    const found = findHeadEnd(buf, 0, Math.max(0, previousEnd - 3), end, how.limits, how.side);
    if (typeof found !== 'number') return { kind: 'refused', refusal: found, inBody: false };
    headEnd = found;
  }
  if (headEnd === -1) return { kind: 'incomplete' };
  const head = how.side === 'request' ? parseRequestHead(buf, 0, headEnd, how.limits) : parseResponseHead(buf, 0, headEnd, how.limits);
  if ('code' in head) return { kind: 'refused', refusal: head, inBody: false };
  const framing = 'method' in head ? requestBodyFraming(head) : responseBodyFraming(head, how.requestMethod ?? 'GET');

  // The body: what is already buffered past the head, then the remaining pieces as they come.
  const ranges: [number, number][] = [[headEnd, end]];
  for (; piece < pieces.length; piece++) {
    const [from, to] = pieces[piece]!;
    bytes.copy(buf, end, from, to);
    ranges.push([end, end + (to - from)]);
    end += to - from;
  }
  let body = '';
  let messageEnd = headEnd;
  if (framing === 'chunked') {
    const decoder = new ChunkedDecoder();
    for (const [from, to] of ranges) {
      const stopped = decoder.decode(buf, from, to, (chunk) => (body += chunk.toString('latin1')));
      if (typeof stopped !== 'number') return { kind: 'refused', refusal: stopped, inBody: true };
      messageEnd = stopped;
      if (decoder.done) break;
    }
    if (!decoder.done) return { kind: 'incomplete' };
  } else if (framing === 'length' || framing === 'close') {
    messageEnd = framing === 'length' ? headEnd + head.contentLength : end;
    if (messageEnd > end) return { kind: 'incomplete' };
    body = buf.toString('latin1', headEnd, messageEnd);
  }
  return { kind: 'parsed', head, framing, body, end: messageEnd };
}

/** `count` sorted distinct cut offsets inside [1, length). */
export function randomCuts(length: number, count: number, next: () => number): number[] {
  const cuts = new Set<number>();
  for (let i = 0; i < count && length > 1; i++) cuts.add(1 + Math.floor(next() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

/** Every offset: the message arrives one byte at a time. */
export function everyByte(length: number): number[] {
  return Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
}
