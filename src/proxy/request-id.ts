// Request IDs: a client's (or an outer proxy's) ID is kept when it is usable, otherwise the
// worker makes one from a random prefix drawn at start and a counter, so IDs are unique across
// workers and restarts without drawing random bytes per request.
import { randomBytes } from 'node:crypto';

/** An incoming ID longer than this is replaced: it would bloat every log line and upstream request. */
export const MAX_REQUEST_ID_LENGTH = 200;
/** Random bytes of a worker's prefix (hex-encoded, so twice as many characters). */
const PREFIX_BYTES = 8;

export class RequestIds {
  /** The header that carries the ID, lower-case (`request_id_header`). */
  readonly header: string;
  /** `${header}: ` ready for a response head. */
  readonly headerPrefix: string;
  readonly #prefix = randomBytes(PREFIX_BYTES).toString('hex');
  #counter = 0;

  constructor(header: string) {
    this.header = header.toLowerCase();
    this.headerPrefix = `${this.header}: `;
  }

  /** `<16 hex digits>-<counter in base 36>`, e.g. `9f3c0a7d51e2b846-1a`. */
  next(): string {
    return `${this.#prefix}-${(++this.#counter).toString(36)}`;
  }

  /** `incoming` when it is a usable ID, else a new one. */
  keepOrMake(incoming: string | undefined): string {
    return incoming !== undefined && usableRequestId(incoming) ? incoming : this.next();
  }
}

/** 1..MAX_REQUEST_ID_LENGTH visible ASCII characters: safe in a header, a log line and a label. */
export function usableRequestId(value: string): boolean {
  const length = value.length;
  if (length === 0 || length > MAX_REQUEST_ID_LENGTH) return false;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}
