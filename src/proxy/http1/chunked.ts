// Decodes a chunked message body (RFC 9112 §7.1) as it arrives, in any split: the body data
// is handed on as views into the caller's buffer, chunk extensions are checked and ignored,
// and the trailer section is checked, bounded and dropped (the proxy never forwards trailers).
import { CR, FIELD_VALUE, HEX_VALUE, HTAB, LF, SEMICOLON, SP, TCHAR, COLON } from './bytes.ts';
import type { ParseError } from './message.ts';
import { REQUEST_REFUSALS } from './parse-errors.ts';

/** Longest chunk-size line, extensions included (nginx and HAProxy bound it too); past it: 400 (a response: 502). */
export const MAX_CHUNK_LINE_BYTES = 4_096;

/** Largest trailer section; it is checked and dropped, never forwarded. Past it: 400 (a response: 502). */
export const MAX_TRAILER_BYTES = 16_384;

/** 2^53 − 1 is 14 hex digits; a longer size line (leading zeros included) is refused. */
const MAX_CHUNK_SIZE_DIGITS = 14;

// The states of a chunk-size line come first: `state <= SIZE_LF` means "inside one".
const SIZE = 0;
const SIZE_SPACE = 1; // whitespace after the size, before `;` or CR
const EXTENSION = 2;
const SIZE_LF = 3;
const DATA = 4;
const DATA_CR = 5;
const DATA_LF = 6;
const TRAILER_START = 7;
const TRAILER_NAME = 8;
const TRAILER_VALUE = 9;
const TRAILER_LF = 10;
const FINAL_LF = 11;
const DONE = 12;
const FAILED = 13;

export class ChunkedDecoder {
  readonly #maxChunkLineBytes: number;
  readonly #maxTrailerBytes: number;
  #state = SIZE;
  #digits = 0;
  #size = 0;
  #lineBytes = 0;
  #remaining = 0;
  #trailerBytes = 0;
  #failure: ParseError | null = null;

  constructor(limits: { maxChunkLineBytes?: number; maxTrailerBytes?: number } = {}) {
    this.#maxChunkLineBytes = limits.maxChunkLineBytes ?? MAX_CHUNK_LINE_BYTES;
    this.#maxTrailerBytes = limits.maxTrailerBytes ?? MAX_TRAILER_BYTES;
  }

  get done(): boolean {
    return this.#state === DONE;
  }

  reset(): void {
    this.#state = SIZE;
    this.#digits = 0;
    this.#size = 0;
    this.#lineBytes = 0;
    this.#remaining = 0;
    this.#trailerBytes = 0;
    this.#failure = null;
  }

  /**
   * Decodes buf[start, end): calls onData with each slice of body data (a subarray view, never
   * a copy) and returns the index where it stopped — `end`, or the first byte after the message
   * once `done`; a ParseError on bad framing (status 400 for a request; the same one again on
   * every later call until reset).
   */
  decode(buf: Buffer, start: number, end: number, onData: (chunk: Buffer) => void): number | ParseError {
    if (this.#failure !== null) return this.#failure;
    let i = start;
    while (i < end) {
      switch (this.#state) {
        case DATA: {
          const n = Math.min(this.#remaining, end - i);
          onData(buf.subarray(i, i + n));
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = DATA_CR;
          break;
        }
        case SIZE:
        case SIZE_SPACE:
        case EXTENSION:
        case SIZE_LF: {
          const lineStart = i;
          const result = this.#sizeLine(buf, i, end);
          if (typeof result !== 'number') return this.#fail(result);
          i = result;
          const lineBytes = this.#lineBytes + (i - lineStart);
          if (lineBytes > this.#maxChunkLineBytes) return this.#fail(REQUEST_REFUSALS.chunkLineTooLong);
          // The count spans reads until the line's LF; the next size line starts from zero.
          this.#lineBytes = this.#state <= SIZE_LF ? lineBytes : 0;
          break;
        }
        case DATA_CR:
          if (buf[i++] !== CR) return this.#fail(REQUEST_REFUSALS.chunkNotTerminated);
          this.#state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[i++] !== LF) return this.#fail(REQUEST_REFUSALS.chunkNotTerminated);
          this.#state = SIZE;
          break;
        case DONE:
          return i;
        default: {
          const sectionStart = i;
          const result = this.#trailers(buf, i, end);
          if (typeof result !== 'number') return this.#fail(result);
          i = result;
          this.#trailerBytes += i - sectionStart;
          if (this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(REQUEST_REFUSALS.trailersTooLarge);
          if (this.#state === DONE) return i;
        }
      }
    }
    return end;
  }

  #fail(refusal: ParseError): ParseError {
    this.#state = FAILED;
    this.#failure = refusal;
    return refusal;
  }

  /** `chunk-size [BWS ";" chunk-ext] CRLF`, from wherever the previous buffer stopped in it. */
  #sizeLine(buf: Buffer, i: number, end: number): number | ParseError {
    while (i < end) {
      const c = buf[i]!;
      switch (this.#state) {
        case SIZE: {
          const digit = HEX_VALUE[c]!;
          if (digit >= 0) {
            if (++this.#digits > MAX_CHUNK_SIZE_DIGITS) return REQUEST_REFUSALS.chunkSize;
            this.#size = this.#size * 16 + digit;
            i++;
            continue;
          }
          if (this.#digits === 0) return REQUEST_REFUSALS.chunkSize;
          if (this.#size > Number.MAX_SAFE_INTEGER) return REQUEST_REFUSALS.chunkSize;
          this.#state = SIZE_SPACE;
          continue;
        }
        case SIZE_SPACE:
          if (c === SP || c === HTAB) i++;
          else if (c === SEMICOLON) {
            this.#state = EXTENSION;
            i++;
          } else if (c === CR) {
            this.#state = SIZE_LF;
            i++;
          } else return c === LF ? REQUEST_REFUSALS.bareLf : REQUEST_REFUSALS.chunkSize;
          continue;
        case EXTENSION:
          // Extensions are ignored, so only their bytes are checked: no controls, no bare CR or LF.
          while (i < end && FIELD_VALUE[buf[i]!] === 1) i++;
          if (i === end) return i;
          if (buf[i] === CR) {
            this.#state = SIZE_LF;
            i++;
            continue;
          }
          return buf[i] === LF ? REQUEST_REFUSALS.bareLf : REQUEST_REFUSALS.chunkExtension;
        default: // SIZE_LF
          if (c !== LF) return REQUEST_REFUSALS.bareCr;
          this.#state = this.#size === 0 ? TRAILER_START : DATA;
          this.#remaining = this.#size;
          this.#size = 0;
          this.#digits = 0;
          return i + 1;
      }
    }
    return i;
  }

  /** The trailer section: field lines (checked like header fields) and the final empty line. */
  #trailers(buf: Buffer, i: number, end: number): number | ParseError {
    while (i < end) {
      const c = buf[i]!;
      switch (this.#state) {
        case TRAILER_START:
          if (c === CR) this.#state = FINAL_LF;
          else if (TCHAR[c] === 1) this.#state = TRAILER_NAME;
          else return c === LF ? REQUEST_REFUSALS.bareLf : REQUEST_REFUSALS.invalidTrailer;
          i++;
          continue;
        case TRAILER_NAME:
          while (i < end && TCHAR[buf[i]!] === 1) i++;
          if (i === end) return i;
          if (buf[i] !== COLON) return REQUEST_REFUSALS.invalidTrailer;
          this.#state = TRAILER_VALUE;
          i++;
          continue;
        case TRAILER_VALUE:
          while (i < end && FIELD_VALUE[buf[i]!] === 1) i++;
          if (i === end) return i;
          if (buf[i] !== CR) return buf[i] === LF ? REQUEST_REFUSALS.bareLf : REQUEST_REFUSALS.invalidTrailer;
          this.#state = TRAILER_LF;
          i++;
          continue;
        case TRAILER_LF:
          if (c !== LF) return REQUEST_REFUSALS.bareCr;
          this.#state = TRAILER_START;
          i++;
          continue;
        default: // FINAL_LF
          if (c !== LF) return REQUEST_REFUSALS.bareCr;
          this.#state = DONE;
          return i + 1;
      }
    }
    return i;
  }
}
