// One server of an upstream group as a worker sees it: its configured weight, what the
// master's health checks and the operator's `set server` say about it, this worker's requests in
// flight, and the passive ejection after a failed connect. Balancers read these fields only.
import type { ServerAdminState } from '../../config/upstream-groups.ts';
import { UPSTREAM_FAIL_TIMEOUT_MS } from '../limits.ts';
import { now as clockNow } from '../read-clock.ts';

export type HealthState = 'up' | 'down';

export class UpstreamServer {
  readonly origin: string;
  readonly weight: number;
  readonly backup: boolean;
  /** Requests this worker has in flight on the server. */
  active = 0;
  health: HealthState = 'up';
  admin: ServerAdminState = 'ready';
  /** performance.now() until which a failed connect keeps the server out of rotation. */
  downUntil = 0;
  /** Smooth weighted round-robin's running value (see smooth-wrr.ts). */
  currentWeight = 0;

  constructor(origin: string, weight = 1, backup = false) {
    this.origin = origin;
    this.weight = weight;
    this.backup = backup;
  }

  /**
   * May take a new request at `now`. Passing `now = Infinity` ignores passive ejection: when
   * every server is ejected, one that failed a connect beats no server at all.
   */
  usable(now: number, tried: readonly UpstreamServer[] | undefined): boolean {
    return this.health === 'up' && this.admin === 'ready' && this.downUntil <= now && (tried === undefined || !tried.includes(this));
  }

  /**
   * Takes the server out of rotation for UPSTREAM_FAIL_TIMEOUT_MS after a failed connect, like
   * nginx's max_fails=1 fail_timeout=10s. Returns true when it was in rotation until now.
   */
  eject(now: number = clockNow()): boolean {
    const wasIn = this.downUntil <= now;
    this.downUntil = now + UPSTREAM_FAIL_TIMEOUT_MS;
    return wasIn;
  }
}
