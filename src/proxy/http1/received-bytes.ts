// The bytes a client connection has received and not yet consumed: a head still arriving, or
// what the client sent ahead of the response it waits for. A chunk is lent only for the call that
// delivers it (client-reads.ts), so whatever is still held when that call ends is kept as a copy.
// A request head is taken from here whole, once it has all arrived, so a head that trickles in
// is scanned for its end once, not from its start on every read.
import { REQUEST_HEAD_LIMITS } from '../limits.ts';
import type { ParseError, RequestHead } from './message.ts';
import { findHeadEnd, parseRequestHead } from './parser.ts';

export class ReceivedBytes {
  /** Undefined when nothing is held; else the unconsumed bytes are buffer[start, buffer.length). */
  buffer: Buffer | undefined;
  start = 0;
  /** How far into buffer the end of a head was already searched for. */
  scanned = 0;

  get length(): number {
    return this.buffer === undefined ? 0 : this.buffer.length - this.start;
  }

  /** Holds chunk[from, …), after whatever is held already. */
  add(chunk: Buffer, from: number): void {
    if (from >= chunk.length) return;
    if (this.buffer === undefined) {
      this.buffer = chunk;
      this.start = from;
      this.scanned = from;
      return;
    }
    this.scanned -= this.start;
    this.buffer = Buffer.concat([this.buffer.subarray(this.start), chunk.subarray(from)]);
    this.start = 0;
  }

  /** Called as the delivering call ends: if `lent` is still held, holds a copy instead. */
  keepCopyOf(lent: Buffer): void {
    if (this.buffer !== lent) return;
    this.buffer = Buffer.from(lent.subarray(this.start));
    this.scanned -= this.start;
    this.start = 0;
  }

  /**
   * The request head that starts the bytes held, consumed; undefined while its end has not
   * arrived. A ParseError when the bytes break the head limits (nothing consumed) or the head is
   * malformed (the head consumed); the connection refuses it either way.
   */
  takeRequestHead(): RequestHead | ParseError | undefined {
    const buffer = this.buffer as Buffer;
    const start = this.start;
    const headEnd = findHeadEnd(buffer, start, Math.max(start, this.scanned - 3), buffer.length, REQUEST_HEAD_LIMITS, 'request');
    if (typeof headEnd !== 'number') return headEnd;
    if (headEnd === -1) {
      this.scanned = buffer.length;
      return undefined;
    }
    const head = parseRequestHead(buffer, start, headEnd, REQUEST_HEAD_LIMITS);
    this.consumeTo(headEnd);
    return head;
  }

  /** Everything before `to` (an index into buffer) is consumed. */
  consumeTo(to: number): void {
    const buffer = this.buffer as Buffer;
    if (to >= buffer.length) {
      this.buffer = undefined;
      this.start = 0;
      this.scanned = 0;
    } else {
      this.start = to;
      this.scanned = to;
    }
  }
}
