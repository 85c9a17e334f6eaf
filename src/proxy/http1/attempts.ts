// The sends one request makes to the servers of its group: which server each goes to (the
// balancer, never a server already tried), the in-flight counts least_conn and the retry
// budget read, and whether a failed send may be made again. A retry is allowed only for what
// can safely be sent twice: after a failed connect nothing reached the upstream, so any request
// whose body is still unread; after that, only a bodyless idempotent request. The group's
// `retries.on` decides which failures count, `attempts` how many, and the budget how many may be
// in flight at once, so retries cannot multiply an outage. A server whose connect failed leaves
// the rotation for a while (passive health), and every request's next pick skips it.
import type { Logger } from '../../log.ts';
import type { UpstreamServer } from '../balance/server.ts';
import { UPSTREAM_FAIL_TIMEOUT_MS } from '../limits.ts';
import type { UpstreamPool } from '../pools.ts';
import type { ForwardTarget } from '../routes/handling.ts';
import { toProxyError } from '../upstream-errors.ts';

/** RFC 9110 §9.2.2: methods whose repetition has the same effect as one request. */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** What went wrong with a send: a failed connect, no response in time, a broken exchange, or a status. */
export type SendFailure = 'connect' | 'timeout' | 'broken' | number;

export interface RequestShape {
  readonly method: string;
  /** The request has a body (it is streamed, so only a send that never read it can be repeated). */
  readonly hasBody: boolean;
  readonly remote: string;
  readonly headers: readonly string[];
}

export class Attempts {
  readonly #target: ForwardTarget;
  readonly #request: RequestShape;
  /** The first server sent to; most requests make no other send. */
  #first: UpstreamServer | undefined;
  /** Every server sent to, in order: made only once a second send is picked (an array per request was 180 bytes of garbage). */
  #tried: UpstreamServer[] | undefined;
  #count = 0;
  #current: UpstreamServer | undefined;
  #retrying = false;
  #settled = false;

  constructor(target: ForwardTarget, request: RequestShape) {
    this.#target = target;
    this.#request = request;
    target.group.budget.inFlight++;
  }

  get groupName(): string {
    return this.#target.group.name;
  }

  /** Sends made so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Picks the server of the next send and counts it in flight in place of the current one;
   * undefined when no server is left (the current send then stays counted).
   */
  next(): { server: UpstreamServer; pool: UpstreamPool } | undefined {
    const tried = this.#count === 0 ? undefined : (this.#tried ??= [this.#first as UpstreamServer]);
    const server = this.#target.group.balancer.pick({ remote: this.#request.remote, rawHeaders: this.#request.headers, tried });
    if (server === undefined) return undefined;
    this.release();
    if (tried !== undefined && !this.#retrying) {
      this.#retrying = true;
      this.#target.group.budget.retrying++;
    }
    if (tried === undefined) this.#first = server;
    else tried.push(server);
    this.#count++;
    this.#current = server;
    server.active++;
    return { server, pool: this.#target.pools.get(server) as UpstreamPool };
  }

  /**
   * Whether the send that failed so may be made again, to another server. `bodySent`: bytes of
   * the body already handed to the failed server.
   */
  mayRetry(failure: SendFailure, bodySent: number): boolean {
    const group = this.#target.group;
    const policy = group.retries;
    if (this.#count > policy.attempts) return false;
    if (failure === 'connect') {
      if (!policy.onConnectFailure || bodySent > 0) return false;
    } else {
      if (!IDEMPOTENT.has(this.#request.method) || this.#request.hasBody) return false;
      const wanted = failure === 'timeout' ? policy.onTimeout || policy.statuses.has(504) : failure === 'broken' ? policy.statuses.has(502) : policy.statuses.has(failure);
      if (!wanted) return false;
    }
    // A request already retrying holds its place in the budget.
    return this.#retrying || group.budget.allows();
  }

  /** The send in progress is over (answered, failed, or handed over to a tunnel). */
  release(): void {
    if (this.#current === undefined) return;
    this.#current.active--;
    this.#current = undefined;
  }

  /**
   * A connect to `server` failed: it leaves the rotation for UPSTREAM_FAIL_TIMEOUT_MS (passive
   * health), so this request's next send and everyone else's skip it; never the group's only server.
   */
  connectFailed(server: UpstreamServer, error: Error, logger: Logger): void {
    if (this.#target.group.balancer.servers.length <= 1 || !server.eject()) return;
    const reason = toProxyError(error, server.origin).message;
    logger.warn(
      { event: 'upstream_down', upstream: server.origin, group: this.#target.group.name, reason, for_ms: UPSTREAM_FAIL_TIMEOUT_MS },
      `upstream ${server.origin} taken out of rotation for ${UPSTREAM_FAIL_TIMEOUT_MS} ms after a failed connect`,
    );
  }

  /** The request is over: it leaves the group's in-flight and retry counts. */
  settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.release();
    const budget = this.#target.group.budget;
    budget.inFlight--;
    if (this.#retrying) budget.retrying--;
  }
}
