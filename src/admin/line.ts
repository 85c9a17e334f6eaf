// Framing and validation of command lines: bytes in, a clean command string (or a verdict
// that the input is unusable) out. Nothing here knows what a command means.
import { MAX_LINE_BYTES } from './limits.ts';

const NEWLINE = 0x0a;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** C0 controls other than tab, and DEL: a line carrying them is binary, not a command. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Accumulates bytes from one connection and hands out complete lines, never buffering more than one line's worth. */
export class LineBuffer {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
  }

  /**
   * The next complete line without its terminator; `'overflow'` when more than
   * MAX_LINE_BYTES arrived without a newline; undefined when more input is needed.
   */
  takeLine(): Buffer | 'overflow' | undefined {
    const end = this.#pending.indexOf(NEWLINE);
    if (end === -1) return this.#pending.length > MAX_LINE_BYTES + 1 ? 'overflow' : undefined;
    const line = this.#pending.subarray(0, end);
    this.#pending = this.#pending.subarray(end + 1);
    return line;
  }

  /** Whatever arrived after the last newline, for a client that ended without one. */
  takeRest(): Buffer {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    return rest;
  }

  get hasPartialLine(): boolean {
    return this.#pending.length > 0;
  }
}

/**
 * The text of a raw line with its optional `\r` removed, or undefined when the line is over
 * the limit, not UTF-8, or contains control bytes. Blank lines come back as `''`.
 */
export function decodeLine(raw: Buffer): string | undefined {
  const bytes = raw.at(-1) === 0x0d ? raw.subarray(0, -1) : raw;
  if (bytes.length > MAX_LINE_BYTES) return undefined;
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  if (CONTROL_CHARACTERS.test(text)) return undefined;
  return text.trim();
}

/** A command with its words separated by single spaces, so `show   proc` means `show proc`. */
export function normalizeCommand(text: string): string {
  return text.trim().split(/[ \t]+/).join(' ');
}
