// What one client connection's requests cost the worker's books. A request is counted in flight
// from its start (the count a drain waits for) to its end, which settles its metrics and writes
// its access-log line, exactly once however it ended: a response, a refusal, the client's close
// or the drain deadline's cut. Kept apart from connection.ts's state machine, which decides when
// a request starts and ends; this is only the record keeping of it.
import type { Socket } from 'node:net';
import { meterEnd } from '../../metrics/tap.ts';
import { logAccess, newAccessRecord, type AccessRecord } from '../access-log.ts';
import { CLIENT_CLOSED_STATUS, DRAIN_CUT_STATUS } from '../responses.ts';
import { now } from '../read-clock.ts';
import type { ConnectionOwner } from './route.ts';

export class RequestAccounting {
  readonly #owner: ConnectionOwner;
  readonly #remote: string;
  /** The access record of the request in flight; undefined between requests. */
  record: AccessRecord | undefined;
  #cutByDrain = false;

  constructor(owner: ConnectionOwner, remote: string) {
    this.#owner = owner;
    this.#remote = remote;
  }

  /** A request begins; `method` and `target` are undefined for a head that could not be parsed. */
  start(method: string | undefined, target: string | undefined): AccessRecord {
    this.#owner.requestStarted();
    this.record = newAccessRecord(method, target, this.#remote);
    return this.record;
  }

  /** The proxy answers the request in flight itself; `code` says why, undefined for a route's own answer. */
  answered(status: number, code: string | undefined, bodyBytes: number): AccessRecord {
    const record = this.record as AccessRecord;
    record.status = status;
    record.error = code;
    record.bytesOut += bodyBytes;
    return record;
  }

  /** The request in flight, if any, is ended by `code` (the connection is about to be destroyed). */
  failed(code: string): void {
    if (this.record !== undefined) this.record.error = code;
  }

  /** The drain deadline cuts the connection: the request in flight is logged as cut. */
  cut(): void {
    if (this.record === undefined) return;
    this.record.error = 'ERR_DRAIN_CUT';
    this.#cutByDrain = true;
  }

  /** The status of a request that ends unanswered with the connection, when the drain cut it. */
  get cutStatus(): number | undefined {
    return this.#cutByDrain ? DRAIN_CUT_STATUS : undefined;
  }

  /** The connection closed before anything answered the request in flight (no exchange ran). */
  closedUnanswered(): void {
    const record = this.record;
    if (record !== undefined && record.status === 0) record.status = this.cutStatus ?? CLIENT_CLOSED_STATUS;
  }

  /** A tunnel's line counts the bytes of the whole connection, its handshake included. */
  tunnelClosed(socket: Socket): void {
    const record = this.record as AccessRecord;
    record.bytesIn = socket.bytesRead;
    record.bytesOut = socket.bytesWritten;
  }

  /** The request in flight, if any, is over: out of the in-flight count, into metrics and the access log. */
  end(): void {
    const record = this.record;
    if (record === undefined) return;
    this.record = undefined;
    const owner = this.#owner;
    owner.requestEnded();
    meterEnd(owner.compiled?.metrics, record, now());
    if (owner.accessLogger !== undefined) logAccess(owner.accessLogger, record);
  }
}
