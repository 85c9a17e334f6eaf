// Counts a streamed (chunked) request body on its way to the upstream and fails the stream the
// moment it would pass the site's limit, before the offending chunk is forwarded. Bodies with a
// Content-Length are checked up front instead and never go through this stream.
import { Transform, type TransformCallback } from 'node:stream';
import { BodyLimitExceededError } from '../errors.ts';

export class BodyLimitStream extends Transform {
  readonly #limitBytes: number;
  #seenBytes = 0;

  constructor(limitBytes: number) {
    super();
    this.#limitBytes = limitBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seenBytes += chunk.length;
    if (this.#seenBytes > this.#limitBytes) callback(new BodyLimitExceededError(this.#limitBytes));
    else callback(null, chunk);
  }
}
