// The strict HTTP/1.1 (and 1.0) head parser: bytes in, values out, no sockets, timers or I/O.
// It runs once per request on the hot path, so it walks the Buffer byte by byte, builds only
// the strings it returns and answers every refusal with a preallocated value (no exceptions).
// The rules are RFC 9112's, at least as strict as nginx; each one is a case in test/http1/.
import { CR, FIELD_VALUE, LF, SP, TARGET, TCHAR, HOST, equalsExactly, equalsLowerCase } from './bytes.ts';
import { CONNECTION_CLOSE, CONNECTION_KEEP_ALIVE, CONNECTION_UPGRADE, facts, scanFields } from './fields.ts';
import type { BodyFraming, HeadLimits, ParseError, RequestHead, ResponseHead } from './message.ts';
import { REQUEST_REFUSALS, RESPONSE_REFUSALS, type Refusals } from './parse-errors.ts';

const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;
const AT = 0x40;
/** CRLF CRLF: the empty line that ends a head. */
const HEAD_TERMINATOR = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Index just past the CRLFCRLF that ends a head starting at `start`, searching from `from`
 * (the caller passes max(start, previousEnd - 3) so a head that trickles in is scanned once);
 * -1 when it has not arrived yet; a ParseError when the bytes so far already break a rule:
 * a bare LF or CR, no CRLF within maxStartLineBytes (414; a response: 502), more than
 * maxHeadBytes (431; a response: 502). Empty lines before a request line are skipped (RFC 9112 §2.2).
 */
export function findHeadEnd(buf: Buffer, start: number, from: number, end: number, limits: HeadLimits, side: 'request' | 'response'): number | ParseError {
  const refuse = side === 'request' ? REQUEST_REFUSALS : RESPONSE_REFUSALS;
  const headLimit = start + limits.maxHeadBytes;
  const stop = end < headLimit ? end : headLimit;
  const lineStart = side === 'request' ? skipEmptyLines(buf, start, stop) : start;
  const scanFrom = from > lineStart ? from : lineStart;
  // A head that has arrived whole is found by the native search; the byte rules this scan would
  // enforce on the way are enforced on every byte of it by the parse that follows.
  const terminator = buf.indexOf(HEAD_TERMINATOR, scanFrom);
  if (terminator !== -1 && terminator + 4 <= stop) return terminator + 4;
  for (let i = scanFrom; i < stop; i++) {
    const c = buf[i]!;
    if (c > CR) continue; // nearly every byte: one comparison
    if (c === LF) {
      if (i === lineStart || buf[i - 1] !== CR) return refuse.bareLf;
      if (i - 3 >= lineStart && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
    } else if (c === CR && i + 1 < end && buf[i + 1] !== LF) {
      return refuse.bareCr;
    }
  }
  if (end - lineStart > limits.maxStartLineBytes && !hasLineEnd(buf, lineStart, lineStart + limits.maxStartLineBytes + 1)) {
    return refuse.startLineTooLong;
  }
  return end - start >= limits.maxHeadBytes ? refuse.headTooLarge : -1;
}

export function parseRequestHead(buf: Buffer, start: number, headEnd: number, limits: HeadLimits): RequestHead | ParseError {
  const refuse = REQUEST_REFUSALS;
  const lineStart = skipEmptyLines(buf, start, headEnd);
  let p = lineStart;
  while (p < headEnd && TCHAR[buf[p]!] === 1) p++;
  if (p === lineStart) return refuse.invalidMethod;
  if (buf[p] !== SP) return buf[p] === CR || buf[p] === LF ? refuse.invalidStartLine : refuse.invalidMethod;
  const methodEnd = p;

  const targetStart = ++p;
  while (p < headEnd && TARGET[buf[p]!] === 1) p++;
  const targetEnd = p;
  if (targetEnd === targetStart || buf[p] === CR || buf[p] === LF) return refuse.invalidStartLine;
  if (buf[p] !== SP) return refuse.invalidTarget;

  const lineEnd = ++p + 8;
  const minor = httpVersion(buf, p, headEnd);
  if (minor === VERSION_UNSUPPORTED) return refuse.unsupportedVersion;
  if (minor === VERSION_MALFORMED) return refuse.invalidStartLine;
  if (buf[lineEnd] !== CR) return buf[lineEnd] === LF ? refuse.bareLf : refuse.invalidStartLine;
  if (buf[lineEnd + 1] !== LF) return refuse.bareCr;
  if (lineEnd - lineStart > limits.maxStartLineBytes) return refuse.startLineTooLong;

  const refusal = scanFields(buf, lineEnd + 2, headEnd, limits, refuse, true);
  if (refusal !== null) return refusal;
  if (minor === 1 && facts.hostFields === 0) return refuse.missingHost;
  const framingRefusal = transferEncodingRefusal(minor, refuse);
  if (framingRefusal !== null) return framingRefusal;

  const method = methodName(buf, lineStart, methodEnd);
  const target = requestTarget(buf, method, targetStart, targetEnd);
  if (typeof target !== 'string') return target;
  return {
    method,
    target,
    authority: targetAuthority,
    host: facts.host,
    expectContinue: minor === 1 && facts.expectContinue,
    versionMinor: minor,
    headers: facts.headers,
    fieldKinds: facts.kinds,
    contentLength: facts.contentLength,
    chunked: facts.chunkedOnly,
    keepAlive: keepAlive(minor),
    upgrade: (facts.connection & CONNECTION_UPGRADE) !== 0 ? facts.upgrade : undefined,
    headLength: facts.end - start,
  };
}

export function parseResponseHead(buf: Buffer, start: number, headEnd: number, limits: HeadLimits): ResponseHead | ParseError {
  const refuse = RESPONSE_REFUSALS;
  const minor = httpVersion(buf, start, headEnd);
  if (minor === VERSION_UNSUPPORTED) return refuse.unsupportedVersion;
  let p = start + 8;
  if (minor === VERSION_MALFORMED || buf[p] !== SP) return refuse.invalidStatusLine;
  const d0 = buf[p + 1]! - 0x30;
  const d1 = buf[p + 2]! - 0x30;
  const d2 = buf[p + 3]! - 0x30;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return refuse.invalidStatusLine;
  const status = d0 * 100 + d1 * 10 + d2;
  p += 4;
  // The SP before an empty reason is often left out; nginx and HAProxy accept that too.
  if (buf[p] === SP) p++;
  else if (buf[p] !== CR) return refuse.invalidStatusLine;
  const reasonStart = p;
  while (p < headEnd && FIELD_VALUE[buf[p]!] === 1) p++;
  if (buf[p] !== CR) return buf[p] === LF ? refuse.bareLf : refuse.invalidStatusLine;
  if (buf[p + 1] !== LF) return refuse.bareCr;
  if (p - start > limits.maxStartLineBytes) return refuse.startLineTooLong;
  const reasonEnd = p;

  const refusal = scanFields(buf, p + 2, headEnd, limits, refuse, false);
  if (refusal !== null) return refusal;
  const framingRefusal = transferEncodingRefusal(minor, refuse);
  if (framingRefusal !== null) return framingRefusal;
  return {
    status,
    reason: reasonEnd - reasonStart === 2 && buf[reasonStart] === 0x4f && buf[reasonStart + 1] === 0x4b ? 'OK' : buf.toString('latin1', reasonStart, reasonEnd),
    versionMinor: minor,
    headers: facts.headers,
    fieldKinds: facts.kinds,
    contentLength: facts.contentLength,
    chunked: facts.chunkedOnly,
    keepAlive: keepAlive(minor),
    upgrade: (facts.connection & CONNECTION_UPGRADE) !== 0 ? facts.upgrade : undefined,
    headLength: facts.end - start,
  };
}

/** 'chunked', 'length' for a Content-Length above 0, else 'none' (a request without either has no body). */
export function requestBodyFraming(head: RequestHead): BodyFraming {
  if (head.chunked) return 'chunked';
  return head.contentLength > 0 ? 'length' : 'none';
}

/** A response to HEAD, and every 1xx, 204 and 304, has no body whatever its headers say; without CL or TE it ends at close. */
export function responseBodyFraming(head: ResponseHead, requestMethod: string): BodyFraming {
  const status = head.status;
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) return 'none';
  if (head.chunked) return 'chunked';
  if (head.contentLength === -1) return 'close';
  return head.contentLength > 0 ? 'length' : 'none';
}

function skipEmptyLines(buf: Buffer, start: number, end: number): number {
  let p = start;
  while (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) p += 2;
  return p;
}

function hasLineEnd(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === CR || buf[i] === LF) return true;
  return false;
}

const VERSION_MALFORMED = -1;
const VERSION_UNSUPPORTED = -2;

/** 0 or 1 for `HTTP/1.0` / `HTTP/1.1` at `at`; VERSION_UNSUPPORTED for any other `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3); else VERSION_MALFORMED. */
function httpVersion(buf: Buffer, at: number, end: number): 0 | 1 | typeof VERSION_MALFORMED | typeof VERSION_UNSUPPORTED {
  if (end - at < 8 || !equalsExactly(buf, at, 'HTTP/') || buf[at + 6] !== 0x2e) return VERSION_MALFORMED;
  const major = buf[at + 5]!;
  const minor = buf[at + 7]!;
  if (!isDigit(major) || !isDigit(minor) || isDigit(buf[at + 8]!)) return VERSION_MALFORMED;
  if (major === 0x31 && (minor === 0x30 || minor === 0x31)) return minor === 0x31 ? 1 : 0;
  return VERSION_UNSUPPORTED;
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** RFC 9112 §6.1: only `chunked`, alone, never beside Content-Length and never in HTTP/1.0. */
function transferEncodingRefusal(minor: 0 | 1, refuse: Refusals): ParseError | null {
  if (facts.transferEncodingFields === 0) return null;
  if (minor === 0) return refuse.transferEncodingHttp10;
  if (facts.contentLength !== -1) return refuse.lengthWithChunked;
  return facts.chunkedOnly ? null : refuse.unsupportedTransferEncoding;
}

function keepAlive(minor: 0 | 1): boolean {
  const tokens = facts.connection;
  if ((tokens & CONNECTION_CLOSE) !== 0) return false;
  return minor === 1 || (tokens & CONNECTION_KEEP_ALIVE) !== 0;
}

/** The common methods as interned literals, so the hot path does not build a string for them. */
function methodName(buf: Buffer, start: number, end: number): string {
  switch (end - start) {
    case 3:
      if (equalsExactly(buf, start, 'GET')) return 'GET';
      if (equalsExactly(buf, start, 'PUT')) return 'PUT';
      break;
    case 4:
      if (equalsExactly(buf, start, 'POST')) return 'POST';
      if (equalsExactly(buf, start, 'HEAD')) return 'HEAD';
      break;
    case 5:
      if (equalsExactly(buf, start, 'PATCH')) return 'PATCH';
      break;
    case 6:
      if (equalsExactly(buf, start, 'DELETE')) return 'DELETE';
      break;
    case 7:
      if (equalsExactly(buf, start, 'OPTIONS')) return 'OPTIONS';
      if (equalsExactly(buf, start, 'CONNECT')) return 'CONNECT';
      break;
  }
  return buf.toString('latin1', start, end);
}

/** Authority of the absolute-form target requestTarget last turned into origin-form (parsing is synchronous). */
let targetAuthority: string | undefined;

/**
 * The target as forwarded: origin-form byte for byte; absolute-form (`http[s]://authority/path`)
 * cut to its path and query with nothing resolved or decoded; `*` for OPTIONS; CONNECT's
 * authority-form as sent (the connection refuses CONNECT).
 */
function requestTarget(buf: Buffer, method: string, start: number, end: number): string | ParseError {
  targetAuthority = undefined;
  const first = buf[start];
  if (first === SLASH) return buf.toString('latin1', start, end);
  if (first === STAR && end - start === 1) return method === 'OPTIONS' ? '*' : REQUEST_REFUSALS.invalidTarget;
  if (method === 'CONNECT') return buf.toString('latin1', start, end);

  let p: number;
  if (end - start > 7 && equalsLowerCase(buf, start, 'http://')) p = start + 7;
  else if (end - start > 8 && equalsLowerCase(buf, start, 'https://')) p = start + 8;
  else return REQUEST_REFUSALS.invalidTarget;
  const authorityStart = p;
  while (p < end && buf[p] !== SLASH && buf[p] !== QUESTION) {
    if (buf[p] === AT) return REQUEST_REFUSALS.targetUserinfo;
    if (HOST[buf[p]!] !== 1) return REQUEST_REFUSALS.invalidTarget;
    p++;
  }
  if (p === authorityStart) return REQUEST_REFUSALS.invalidTarget;
  targetAuthority = buf.toString('latin1', authorityStart, p);
  if (p === end) return method === 'OPTIONS' ? '*' : '/';
  return buf[p] === QUESTION ? '/' + buf.toString('latin1', p, end) : buf.toString('latin1', p, end);
}
