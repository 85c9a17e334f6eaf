// The header section of a request or a response: validates every field line (RFC 9112 §5) and
// notes the few fields the proxy itself acts on. Each name gets its kind (field-kinds.ts: a
// length lookup and a case-insensitive compare, no lower-cased copy), which the field notes
// switch on.
import { COLON, CR, FIELD_VALUE, HOST, HTAB, LF, SP, TCHAR, equalsExactly, equalsLowerCase } from './bytes.ts';
import { CONNECTION, CONTENT_LENGTH, EXPECT, HOST as HOST_KIND, KIND_COUNT, KIND_INDEX, OTHER, REPEATED_VALUES, TRANSFER_ENCODING, UPGRADE, fieldKind } from './field-kinds.ts';
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
  /** The kind of each field's name (field-kinds.ts), in order. */
  kinds: number[] = [];
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
    this.kinds = [];
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

/** Longest name or value remembered for reuse; anything longer is decoded every time. */
const MAX_REMEMBERED_NAME = 64;
const MAX_REMEMBERED_VALUE = 256;

/**
 * The names decoded lately, in slots picked by length and two bytes, each with its kind: the
 * messages of a connection (and of an upstream) repeat nearly all their names in the same
 * spelling, so most names cost a byte compare instead of a decoded string and a classification.
 */
const NAME_SLOTS = 256;
const recentNames: string[] = new Array<string>(NAME_SLOTS).fill('');
const recentKinds = new Uint16Array(NAME_SLOTS);

/** Kind of the name nameAt last returned (parsing is synchronous). */
let nameKind = OTHER;

/** buf[start, end) as a string (the one decoded last time when the bytes are the same), its kind in `nameKind`. */
function nameAt(buf: Buffer, start: number, end: number): string {
  const length = end - start;
  const slot = (length * 31 + buf[start]! * 7 + buf[end - 1]!) & (NAME_SLOTS - 1);
  const recent = recentNames[slot]!;
  if (recent.length === length && equalsExactly(buf, start, recent)) {
    nameKind = recentKinds[slot]!;
    return recent;
  }
  const name = buf.toString('latin1', start, end);
  nameKind = fieldKind(name);
  if (length <= MAX_REMEMBERED_NAME) {
    recentNames[slot] = name;
    recentKinds[slot] = nameKind;
  }
  return name;
}

/**
 * The last value of each REPEATED_VALUES kind, requests and responses apart: Date, Host,
 * Content-Type and the like repeat from message to message, and none of them is a secret (a
 * remembered Cookie or Authorization value would let a byte compare's timing tell one client
 * something about another's).
 */
const recentValues = [new Array<string>(KIND_COUNT).fill(''), new Array<string>(KIND_COUNT).fill('')];

/** buf[start, end) as the value of a field of `kind`. */
function valueAt(buf: Buffer, start: number, end: number, kind: number, isRequest: boolean): string {
  if ((kind & REPEATED_VALUES) === 0) return buf.toString('latin1', start, end);
  const recent = recentValues[isRequest ? 0 : 1]!;
  const index = kind & KIND_INDEX;
  const last = recent[index]!;
  if (last.length === end - start && equalsExactly(buf, start, last)) return last;
  const value = buf.toString('latin1', start, end);
  if (end - start <= MAX_REMEMBERED_VALUE) recent[index] = value;
  return value;
}

/**
 * Scans the field lines from `p` (the first byte after the start line) to the empty line,
 * before `headEnd`, into `facts`. Returns null, or the refusal for the first broken rule.
 * `isRequest` turns on the request-only fields (Host, Expect).
 */
export function scanFields(buf: Buffer, p: number, headEnd: number, limits: HeadLimits, refuse: Refusals, isRequest: boolean): ParseError | null {
  facts.reset();
  const headers = facts.headers;
  const kinds = facts.kinds;
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

    const name = nameAt(buf, nameStart, nameEnd);
    const kind = nameKind;
    const value = valueAt(buf, valueStart, valueEnd, kind, isRequest);
    headers.push(name, value);
    kinds.push(kind);
    const refusal = noteField(buf, kind, valueStart, valueEnd, value, refuse, isRequest);
    if (refusal !== null) return refusal;
  }
}

function noteField(buf: Buffer, kind: number, valueStart: number, valueEnd: number, value: string, refuse: Refusals, isRequest: boolean): ParseError | null {
  switch (kind) {
    case HOST_KIND:
      if (isRequest) {
        if (++facts.hostFields > 1) return refuse.duplicateHost;
        for (let i = valueStart; i < valueEnd; i++) if (HOST[buf[i]!] !== 1) return refuse.invalidHost;
        facts.host = value;
      }
      return null;
    case EXPECT:
      if (isRequest && valueEnd - valueStart === 12 && equalsLowerCase(buf, valueStart, '100-continue')) facts.expectContinue = true;
      return null;
    case UPGRADE:
      if (facts.upgrade === undefined) facts.upgrade = value;
      return null;
    case CONNECTION:
      facts.connection |= connectionTokens(buf, valueStart, valueEnd);
      return null;
    case CONTENT_LENGTH: {
      if (facts.contentLength !== -1) return refuse.duplicateContentLength;
      const length = decimal(buf, valueStart, valueEnd);
      if (length < 0) return refuse.invalidContentLength;
      facts.contentLength = length;
      return null;
    }
    case TRANSFER_ENCODING:
      facts.chunkedOnly = ++facts.transferEncodingFields === 1 && valueEnd - valueStart === 7 && equalsLowerCase(buf, valueStart, 'chunked');
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
