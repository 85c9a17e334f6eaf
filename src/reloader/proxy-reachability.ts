// Whether the proxy answers on its admin socket, as the reloader tells it: the backoff between
// attempts while it does not, one warning when it stops answering (then at most one per
// UNREACHABLE_LOG_INTERVAL_MS, so a proxy down for hours does not flood the log), and one line
// when it answers again.
import type { ReverseProxyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Backoff } from './backoff.ts';
import { errorText } from './error-text.ts';
import type { ReloaderMetrics } from './metrics.ts';

/** First wait after the proxy could not be reached; doubles up to --socket-retry-max-ms. */
const SOCKET_RETRY_INITIAL_MS = 250;
/** While the proxy stays unreachable, repeat the warning at most this often. */
const UNREACHABLE_LOG_INTERVAL_MS = 60_000;

export class ProxyReachability {
  readonly #logger: Logger;
  readonly #metrics: ReloaderMetrics;
  readonly #backoff: Backoff;
  #unreachableSince: number | undefined;
  #lastUnreachableLog = 0;

  constructor(logger: Logger, metrics: ReloaderMetrics, socketRetryMaxMs: number) {
    this.#logger = logger;
    this.#metrics = metrics;
    this.#backoff = new Backoff(SOCKET_RETRY_INITIAL_MS, socketRetryMaxMs);
  }

  reachable(): void {
    if (this.#unreachableSince !== undefined) {
      this.#logger.info(
        { event: 'proxy_reachable', waited_ms: Date.now() - this.#unreachableSince, attempts: this.#backoff.attempts },
        'the proxy answers on the admin socket',
      );
    }
    this.#unreachableSince = undefined;
    this.#backoff.reset();
    this.#metrics.proxyUp = true;
  }

  /** Records a failed attempt; returns how long to wait before the next one. */
  unreachable(err: unknown): number {
    const metrics = this.#metrics;
    metrics.socketErrors++;
    metrics.inSync = false;
    metrics.proxyUp = false;
    const now = Date.now();
    const delay = this.#backoff.next();
    const first = this.#unreachableSince === undefined;
    this.#unreachableSince ??= now;
    if (first || now - this.#lastUnreachableLog >= UNREACHABLE_LOG_INTERVAL_MS) {
      this.#lastUnreachableLog = now;
      this.#logger.warn(
        { event: 'proxy_unreachable', code: (err as ReverseProxyError).code, err: errorText(err), retry_in_ms: delay, waiting_ms: now - this.#unreachableSince },
        first ? 'cannot reach the proxy; waiting for it' : 'still waiting for the proxy',
      );
    }
    return delay;
  }
}
