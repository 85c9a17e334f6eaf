// The config the proxy last refused, by hash, so the reloader does not send it again until it
// changes: a broken file stays broken, and re-sending it on every resync would only repeat the
// error. With --retry-failed-secs it is sent again after a capped exponential backoff instead
// (for a failure that depended on something outside the file).
import { Backoff } from './backoff.ts';

interface Refused {
  sha256: string;
  retry: Backoff | undefined;
  retryAt: number | undefined;
}

export class RefusedConfig {
  readonly #retryFailedSecs: number;
  readonly #retryFailedMaxSecs: number;
  #refused: Refused | undefined;

  /** `retryFailedSecs` 0: a refused config is never sent again while it stays the same. */
  constructor(retryFailedSecs: number, retryFailedMaxSecs: number) {
    this.#retryFailedSecs = retryFailedSecs;
    this.#retryFailedMaxSecs = retryFailedMaxSecs;
  }

  /** Hash of the refused config, if one is remembered. */
  get sha256(): string | undefined {
    return this.#refused?.sha256;
  }

  /**
   * Remembers `sha256` as refused once more (the backoff grows while the same config keeps
   * failing); returns when to try it again, or undefined for never.
   */
  remember(sha256: string): number | undefined {
    const previous = this.#refused?.sha256 === sha256 ? this.#refused : undefined;
    const retry = previous?.retry ?? (this.#retryFailedSecs > 0 ? new Backoff(this.#retryFailedSecs * 1000, this.#retryFailedMaxSecs * 1000) : undefined);
    const delay = retry?.next();
    this.#refused = { sha256, retry, retryAt: delay === undefined ? undefined : Date.now() + delay };
    return delay;
  }

  /** Milliseconds until the refused config may be sent again (0 or less: now), undefined: never. */
  retryWaitMs(): number | undefined {
    const retryAt = this.#refused?.retryAt;
    return retryAt === undefined ? undefined : retryAt - Date.now();
  }

  forget(): void {
    this.#refused = undefined;
  }
}
