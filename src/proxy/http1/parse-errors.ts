// Every reason the HTTP/1.1 parser refuses a message, as preallocated frozen values: a refused
// request costs no allocation and no exception, and the codes are stable (logged, tested and
// listed in docs/data-path.md under "What the parser refuses").
import type { ParseError } from './message.ts';

/** Each refusal: its stable code, the status a client gets for it, and a sentence for people. */
const REFUSALS = {
  bareLf: ['ERR_BARE_LF', 400, 'a line ends in LF without CR'],
  incompleteHead: ['ERR_INCOMPLETE_HEAD', 400, 'the header section does not end in an empty line'],
  bareCr: ['ERR_BARE_CR', 400, 'a CR is not followed by LF'],
  startLineTooLong: ['ERR_REQUEST_LINE_TOO_LONG', 414, 'request line too long'],
  headTooLarge: ['ERR_HEAD_TOO_LARGE', 431, 'request header fields too large'],
  tooManyHeaders: ['ERR_TOO_MANY_HEADERS', 431, 'too many header fields'],
  invalidMethod: ['ERR_INVALID_METHOD', 400, 'invalid method'],
  invalidTarget: ['ERR_INVALID_TARGET', 400, 'invalid request target'],
  targetUserinfo: ['ERR_TARGET_USERINFO', 400, 'userinfo in the request target'],
  invalidStartLine: ['ERR_INVALID_REQUEST_LINE', 400, 'invalid request line'],
  invalidStatusLine: ['ERR_INVALID_STATUS_LINE', 502, 'invalid status line'],
  unsupportedVersion: ['ERR_HTTP_VERSION', 505, 'HTTP version not supported'],
  obsFold: ['ERR_OBS_FOLD', 400, 'obsolete line folding in the header section'],
  invalidHeaderName: ['ERR_INVALID_HEADER_NAME', 400, 'invalid header field name'],
  spaceBeforeColon: ['ERR_SPACE_BEFORE_COLON', 400, 'whitespace between a header field name and the colon'],
  invalidHeaderValue: ['ERR_INVALID_HEADER_VALUE', 400, 'control character in a header field value'],
  missingHost: ['ERR_MISSING_HOST', 400, 'missing Host header'],
  duplicateHost: ['ERR_DUPLICATE_HOST', 400, 'more than one Host header'],
  invalidHost: ['ERR_INVALID_HOST', 400, 'invalid Host header'],
  invalidContentLength: ['ERR_INVALID_CONTENT_LENGTH', 400, 'invalid Content-Length'],
  duplicateContentLength: ['ERR_DUPLICATE_CONTENT_LENGTH', 400, 'more than one Content-Length header'],
  lengthWithChunked: ['ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING', 400, 'both Content-Length and Transfer-Encoding'],
  transferEncodingHttp10: ['ERR_TRANSFER_ENCODING_HTTP10', 400, 'Transfer-Encoding in an HTTP/1.0 message'],
  unsupportedTransferEncoding: ['ERR_UNSUPPORTED_TRANSFER_ENCODING', 501, 'Transfer-Encoding other than chunked'],
  chunkSize: ['ERR_CHUNK_SIZE', 400, 'invalid chunk size'],
  chunkExtension: ['ERR_CHUNK_EXTENSION', 400, 'invalid chunk extension'],
  chunkLineTooLong: ['ERR_CHUNK_LINE_TOO_LONG', 400, 'chunk size line too long'],
  chunkNotTerminated: ['ERR_CHUNK_NOT_TERMINATED', 400, 'chunk data not followed by CRLF'],
  invalidTrailer: ['ERR_INVALID_TRAILER', 400, 'invalid trailer field'],
  trailersTooLarge: ['ERR_TRAILERS_TOO_LARGE', 400, 'trailer section too large'],
} as const satisfies Record<string, readonly [string, number, string]>;

export type Refusal = keyof typeof REFUSALS;
export type Refusals = { readonly [K in Refusal]: ParseError };
type RefusalTable = Record<Refusal, readonly [string, number, string]>;

function build(table: RefusalTable, status: (requestStatus: number) => number): Refusals {
  const out = {} as Record<Refusal, ParseError>;
  for (const key of Object.keys(table) as Refusal[]) {
    const [code, requestStatus, reason] = table[key];
    out[key] = Object.freeze({ status: status(requestStatus), code, reason });
  }
  return out;
}

/** What a client is answered for each refused request. */
export const REQUEST_REFUSALS: Refusals = build(REFUSALS, (status) => status);

/** Refused upstream responses: the same codes, always 502 for the client (the response is never relayed). */
export const RESPONSE_REFUSALS: Refusals = build(
  { ...REFUSALS, startLineTooLong: ['ERR_STATUS_LINE_TOO_LONG', 502, 'status line too long'], headTooLarge: ['ERR_HEAD_TOO_LARGE', 502, 'response header section too large'] },
  () => 502,
);
