// The bytes a client connection has received and not yet consumed: a head still arriving, or
// what the client sent ahead of the response it waits for. A chunk is lent only for the call that
// delivers it (client-reads.ts), so whatever is still held when that call ends is kept as a copy.

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
