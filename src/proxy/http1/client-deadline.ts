// Which client timeout runs on a connection and when it fires. A client connection waits on one
// thing at a time (a head, a body, a client that stopped reading, the idle gap between requests,
// a lingering close), so it has at most one deadline: a kind and an instant, moved by plain
// assignments and checked on the worker's coarse tick (deadlines.ts). This is the bookkeeping
// only, kept apart from connection.ts's state machine, which decides what a deadline that fired does.
import { CLIENT_LINGER_MS } from '../limits.ts';
import { now } from '../read-clock.ts';
import type { ProxyReply } from '../responses.ts';
import type { ClientTimeouts } from './route.ts';

export type ClientDeadlineKind = 'none' | 'header' | 'keepalive' | 'body' | 'send' | 'linger';

export const HEADER_TIMEOUT_REPLY: ProxyReply = { status: 408, message: 'request head not received in time', close: true };
export const BODY_TIMEOUT_REPLY: ProxyReply = { status: 408, message: 'request body not received in time', close: true };

export class ClientDeadline {
  readonly #timeouts: ClientTimeouts;
  #kind: ClientDeadlineKind = 'none';
  /** performance.now() at which it fires; 0 when none runs. */
  #at = 0;

  constructor(timeouts: ClientTimeouts) {
    this.#timeouts = timeouts;
  }

  get kind(): ClientDeadlineKind {
    return this.#kind;
  }

  /** A request head is due (the first one, or one sent ahead). */
  header(): void {
    this.#arm('header', this.#timeouts.headerMs);
  }

  /** Idle between requests. */
  keepAlive(): void {
    this.#arm('keepalive', this.#timeouts.keepAliveMs);
  }

  /** More of the request body is due. */
  body(): void {
    this.#arm('body', this.#timeouts.bodyMs);
  }

  /** The client stopped reading the response: the route's client idle timeout. */
  send(ms: number): void {
    this.#arm('send', ms);
  }

  /** A lingering close whose response is flushed. */
  linger(): void {
    this.#arm('linger', CLIENT_LINGER_MS);
  }

  clear(): void {
    this.#kind = 'none';
    this.#at = 0;
  }

  /** Clears the deadline only if it is a `kind` one (another wait may have replaced it). */
  clearIf(kind: ClientDeadlineKind): void {
    if (this.#kind === kind) this.clear();
  }

  /** The kind of the deadline that has passed by `now`, now cleared; 'none' if none has. */
  expired(now: number): ClientDeadlineKind {
    if (this.#at === 0 || now < this.#at) return 'none';
    const kind = this.#kind;
    this.clear();
    return kind;
  }

  #arm(kind: ClientDeadlineKind, ms: number): void {
    this.#kind = kind;
    this.#at = now() + ms;
  }
}
