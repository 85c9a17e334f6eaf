// The values the HTTP/1.1 parser (parser.ts) hands to the connection and the upstream pool.
// Everything here is plain data: the parser owns no sockets and no timers, so each rule it
// enforces can be pinned by a bytes-in, result-out test.

/** A message the parser refuses: what the client is answered (request side) and why. */
export interface ParseError {
  /** Status for the client: 400, 414, 431, 501 or 505 (a refused response becomes a 502). */
  readonly status: number;
  /** Stable machine-readable reason, such as `ERR_DUPLICATE_HOST`; logged and tested. */
  readonly code: string;
  /** One short sentence for people; safe to send as the plain-text body. */
  readonly reason: string;
}

/** Size limits a head is parsed under (the defaults live in src/proxy/limits.ts). */
export interface HeadLimits {
  /** Longest request line (or status line); past it: 414 (a response: 502). */
  readonly maxStartLineBytes: number;
  /** Longest head, start line and fields and the empty line; past it: 431. */
  readonly maxHeadBytes: number;
  /** Most header fields; past it: 431. */
  readonly maxHeaderCount: number;
}

/** Shared by requests and responses. */
interface MessageHead {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: 0 | 1;
  /** Every field as received, flat `[name, value, name, value, …]`; names keep their case, values lose surrounding whitespace. */
  readonly headers: string[];
  /** The kind of each field's name (http1/field-kinds.ts), in order: `fieldKinds[i]` is that of `headers[2 * i]`. */
  readonly fieldKinds: readonly number[];
  /** Content-Length, or -1 when absent. */
  readonly contentLength: number;
  /** Transfer-Encoding is exactly `chunked`. */
  readonly chunked: boolean;
  /** The connection may carry another message after this one (version default + Connection tokens). */
  readonly keepAlive: boolean;
  /** Value of Upgrade when Connection lists `upgrade`, else undefined. */
  readonly upgrade: string | undefined;
  /** Bytes of the head, including the empty line that ends it. */
  readonly headLength: number;
}

export interface RequestHead extends MessageHead {
  readonly method: string;
  /** Origin-form target as it is forwarded (absolute-form already turned into origin-form, byte for byte); `*` for `OPTIONS *`. */
  readonly target: string;
  /** Authority of an absolute-form target, which wins over Host; undefined for origin-form. */
  readonly authority: string | undefined;
  /** The single Host field's value, or undefined when there is none. */
  readonly host: string | undefined;
  /** `Expect: 100-continue` was sent. */
  readonly expectContinue: boolean;
}

export interface ResponseHead extends MessageHead {
  readonly status: number;
  readonly reason: string;
}

/** How a message body ends, decided from the head (and, for a response, the request method). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';
