// The header section of a request or a response: validates every field line (RFC 9112 §5) and
// notes the few fields the proxy itself acts on. Names are classified by length first and then
// a case-insensitive byte compare, so no lower-cased copy of any name is ever made.
import { COLON, CR, FIELD_VALUE, HOST, HTAB, LF, SP, TCHAR, equalsExactly, equalsLowerCase } from './bytes.ts';
import type { HeadLimits, ParseError } from './message.ts';
import type { Refusals } from './parse-errors.ts';

/** Connection tokens the proxy acts on, as bits of FieldFacts.connection. */
export const CONNECTION_CLOSE = 1;
export const CONNECTION_KEEP_ALIVE = 2;
export const CONNECTION_UPGRADE = 4;

/**
 * What one header section said. A single instance is reused for every message (parsing is
 * synchronous), so scanning a section allocates only the strings it returns.
 */
class FieldFacts {
  headers: string[] = [];
  contentLength = -1;
  transferEncodingFields = 0;
  /** The one Transfer-Encoding field is exactly `chunked`. */
  chunkedOnly = false;
  hostFields = 0;
  host: string | undefined = undefined;
  connection = 0;
  upgrade: string | undefined = undefined;
  expectContinue = false;
  /** Index just past the empty line that ends the section. */
  end = 0;

  reset(): void {
    this.headers = [];
    this.contentLength = -1;
    this.transferEncodingFields = 0;
    this.chunkedOnly = false;
    this.hostFields = 0;
    this.host = undefined;
    this.connection = 0;
    this.upgrade = undefined;
    this.expectContinue = false;
    this.end = 0;
  }
}

export const facts = new FieldFacts();

const MAX_CONTENT_LENGTH_DIGITS = 16; // 2^53 − 1 has 16 digits

/** Strings indexed by length, to be looked up by their bytes. */
function byLength(strings: string[]): string[][] {
  const table: string[][] = [];
  for (const s of strings) (table[s.length] ??= []).push(s);
  return table;
}

/** Names nearly every message carries, in their usual spelling. */
const COMMON_NAMES = byLength(['Host', 'Date', 'Accept', 'Cookie', 'Expect', 'Origin', 'Server', 'Referer', 'Upgrade', 'Connection', 'User-Agent', 'Set-Cookie', 'Keep-Alive', 'Content-Type', 'Cache-Control', 'Authorization', 'Last-Modified', 'Content-Length', 'Accept-Encoding', 'Accept-Language', 'X-Forwarded-For', 'Transfer-Encoding']);

/** Values of Connection, Transfer-Encoding, Accept and Upgrade that most messages share. */
const COMMON_VALUES = byLength(['keep-alive', 'Keep-Alive', 'close', 'Upgrade', 'upgrade', 'chunked', 'websocket', '*/*', '0']);

/**
 * buf[start, end) as a string: one of `common` when the bytes spell it (no string is built on
 * the hot path for those, about a fifth of a small request's parse time), else decoded as latin1.
 */
function internedLatin1(buf: Buffer, start: number, end: number, common: string[][]): string {
  const candidates = common[end - start];
  if (candidates !== undefined) {
    for (const s of candidates) if (equalsExactly(buf, start, s)) return s;
  }
  return buf.toString('latin1', start, end);
}

/**
 * Scans the field lines from `p` (the first byte after the start line) to the empty line,
 * before `headEnd`, into `facts`. Returns null, or the refusal for the first broken rule.
 * `isRequest` turns on the request-only fields (Host, Expect).
 */
export function scanFields(buf: Buffer, p: number, headEnd: number, limits: HeadLimits, refuse: Refusals, isRequest: boolean): ParseError | null {
  facts.reset();
  const headers = facts.headers;
  let count = 0;
  for (;;) {
    if (p >= headEnd - 1) return refuse.incompleteHead;
    const first = buf[p];
    if (first === CR) {
      if (buf[p + 1] !== LF) return refuse.bareCr;
      facts.end = p + 2;
      return null;
    }
    if (first === SP || first === HTAB) return refuse.obsFold;
    if (++count > limits.maxHeaderCount) return refuse.tooManyHeaders;

    const nameStart = p;
    while (p < headEnd && TCHAR[buf[p]!] === 1) p++;
    const nameEnd = p;
    if (buf[p] !== COLON || nameEnd === nameStart) {
      const c = buf[p];
      return nameEnd > nameStart && (c === SP || c === HTAB) ? refuse.spaceBeforeColon : c === LF ? refuse.bareLf : refuse.invalidHeaderName;
    }
    p++;
    while (buf[p] === SP || buf[p] === HTAB) p++;
    const valueStart = p;
    while (p < headEnd && FIELD_VALUE[buf[p]!] === 1) p++;
    if (p >= headEnd - 1) return refuse.incompleteHead;
    if (buf[p] !== CR) return buf[p] === LF ? refuse.bareLf : refuse.invalidHeaderValue;
    if (buf[p + 1] !== LF) return refuse.bareCr;
    let valueEnd = p;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    p += 2;

    const value = internedLatin1(buf, valueStart, valueEnd, COMMON_VALUES);
    headers.push(internedLatin1(buf, nameStart, nameEnd, COMMON_NAMES), value);
    const refusal = noteField(buf, nameStart, nameEnd - nameStart, valueStart, valueEnd, value, refuse, isRequest);
    if (refusal !== null) return refusal;
  }
}

function noteField(buf: Buffer, name: number, nameLength: number, valueStart: number, valueEnd: number, value: string, refuse: Refusals, isRequest: boolean): ParseError | null {
  switch (nameLength) {
    case 4:
      if (isRequest && equalsLowerCase(buf, name, 'host')) {
        if (++facts.hostFields > 1) return refuse.duplicateHost;
        for (let i = valueStart; i < valueEnd; i++) if (HOST[buf[i]!] !== 1) return refuse.invalidHost;
        facts.host = value;
      }
      return null;
    case 6:
      if (isRequest && equalsLowerCase(buf, name, 'expect') && valueEnd - valueStart === 12 && equalsLowerCase(buf, valueStart, '100-continue')) {
        facts.expectContinue = true;
      }
      return null;
    case 7:
      if (equalsLowerCase(buf, name, 'upgrade') && facts.upgrade === undefined) facts.upgrade = value;
      return null;
    case 10:
      if (equalsLowerCase(buf, name, 'connection')) facts.connection |= connectionTokens(buf, valueStart, valueEnd);
      return null;
    case 14:
      if (equalsLowerCase(buf, name, 'content-length')) {
        if (facts.contentLength !== -1) return refuse.duplicateContentLength;
        const length = decimal(buf, valueStart, valueEnd);
        if (length < 0) return refuse.invalidContentLength;
        facts.contentLength = length;
      }
      return null;
    case 17:
      if (equalsLowerCase(buf, name, 'transfer-encoding')) {
        facts.chunkedOnly = ++facts.transferEncodingFields === 1 && valueEnd - valueStart === 7 && equalsLowerCase(buf, valueStart, 'chunked');
      }
      return null;
    default:
      return null;
  }
}

/** A Content-Length value: one run of digits up to 2^53 − 1, else -1 (no sign, list, hex or space). */
function decimal(buf: Buffer, start: number, end: number): number {
  if (end === start || end - start > MAX_CONTENT_LENGTH_DIGITS) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= Number.MAX_SAFE_INTEGER ? n : -1;
}

/** The close / keep-alive / upgrade tokens of one Connection value (a comma list, any case). */
function connectionTokens(buf: Buffer, start: number, end: number): number {
  let bits = 0;
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === SP || buf[i] === HTAB || buf[i] === 0x2c)) i++;
    const tokenStart = i;
    while (i < end && buf[i] !== 0x2c) i++;
    let tokenEnd = i;
    while (tokenEnd > tokenStart && (buf[tokenEnd - 1] === SP || buf[tokenEnd - 1] === HTAB)) tokenEnd--;
    const length = tokenEnd - tokenStart;
    if (length === 5 && equalsLowerCase(buf, tokenStart, 'close')) bits |= CONNECTION_CLOSE;
    else if (length === 10 && equalsLowerCase(buf, tokenStart, 'keep-alive')) bits |= CONNECTION_KEEP_ALIVE;
    else if (length === 7 && equalsLowerCase(buf, tokenStart, 'upgrade')) bits |= CONNECTION_UPGRADE;
  }
  return bits;
}
