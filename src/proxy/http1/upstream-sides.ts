// Whom an upstream connection (upstream-connection.ts) reports to: the handler of the response
// it is reading (an exchange, then a tunnel after a 101) and the pool that owns it. Kept apart so
// that exchange.ts, tunnel.ts and upstream-pool.ts depend on this contract, not on the parsing.
import type { BodyFraming, ResponseHead } from './message.ts';
import type { UpstreamConnection } from './upstream-connection.ts';

/** Who hears about one request's response (an exchange, later a tunnel). */
export interface ResponseHandler {
  /** The final response head (or the 101 of an upgrade that was asked for). */
  onResponseHead(head: ResponseHead, framing: BodyFraming): void;
  /** Body bytes (chunked framing already removed); a view into a read buffer. */
  onResponseBody(chunk: Buffer): void;
  onResponseEnd(): void;
  /**
   * The exchange failed. `resendable`: the connection had carried a request before and not one
   * byte of this response arrived — the keep-alive race, where the upstream closed an idle
   * connection just as the request went out.
   */
  onResponseError(error: Error, resendable: boolean): void;
  /** A read was handed over; returns whether bytes of its buffer are still queued somewhere. */
  readDone(): boolean;
  /** Takes the read buffer; the handler gives it back once the bytes are flushed. */
  adoptReadBuffer(buffer: Buffer): void;
}

/** The pool's side of a connection's life. */
export interface ConnectionOwner {
  connected(conn: UpstreamConnection): void;
  connectFailed(conn: UpstreamConnection, error: Error): void;
  /** The response is complete and the connection can carry another request. */
  reusable(conn: UpstreamConnection): void;
  /** The connection is closed (or being closed) and no longer counts against the cap. */
  lost(conn: UpstreamConnection): void;
}
