// The shape of the HTTP/1.1 conformance corpus (request-cases.ts, response-cases.ts): each case
// is the exact bytes on the wire, the rule it pins and what must come of it. The parser tests
// and the raw-socket tests against the real binary iterate the same cases.
import type { BodyFraming, HeadLimits } from '../../src/proxy/http1/message.ts';

/** The parser refuses the message: the client gets `status` (a refused response: 502) and the log gets `code`. */
export interface Refused {
  status: number;
  code: string;
  /** The head was fine and the body's framing is refused (by the ChunkedDecoder): the head may already be on its way. */
  inBody?: true;
}

interface Accepted {
  versionMinor: 0 | 1;
  keepAlive: boolean;
  framing: BodyFraming;
  /** The flat `[name, value, …]` list, when the case pins it. */
  headers?: string[];
  contentLength?: number;
  upgrade?: string;
  /** The body as decoded (Content-Length, chunked, or up to the close). */
  body?: string;
}

export interface AcceptedRequest extends Accepted {
  method: string;
  /** Exactly what the upstream must receive as the request-target. */
  target: string;
  host?: string;
  authority?: string;
  expectContinue?: boolean;
  /** The proxy answers the request itself with this status and forwards nothing (CONNECT: 405). */
  answeredByProxy?: number;
}

export interface AcceptedResponse extends Accepted {
  status: number;
  reason: string;
}

export interface RequestCase {
  name: string;
  /** The RFC section (or peer behaviour) the case pins. */
  rule: string;
  /** The exact bytes sent, as a latin1 string (one char per byte). */
  bytes: string;
  expect: Refused | AcceptedRequest;
}

export interface ResponseCase {
  name: string;
  rule: string;
  /** The method of the request this responds to (default GET): HEAD changes the framing. */
  requestMethod?: string;
  bytes: string;
  expect: Refused | AcceptedResponse;
}

export const isRefused = (expect: object): expect is Refused => 'code' in expect;

/** The product's request-side head limits (MAX_REQUEST_LINE_BYTES, MAX_REQUEST_HEADER_BYTES, MAX_REQUEST_HEADER_COUNT). */
export const REQUEST_LIMITS: HeadLimits = { maxStartLineBytes: 8_192, maxHeadBytes: 16_384, maxHeaderCount: 100 };

/** The product's response-side head limits (MAX_RESPONSE_STATUS_LINE_BYTES, MAX_RESPONSE_HEADER_BYTES, MAX_RESPONSE_HEADER_COUNT). */
export const RESPONSE_LIMITS: HeadLimits = { maxStartLineBytes: 8_192, maxHeadBytes: 65_536, maxHeaderCount: 256 };

/** `count` header lines `X-Filler-i: <value>`, CRLF-terminated. */
export function fillerFields(count: number, value = 'v'): string {
  let out = '';
  for (let i = 0; i < count; i++) out += `X-Filler-${i}: ${value}\r\n`;
  return out;
}
