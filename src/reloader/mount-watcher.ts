// Watches the mounted directories (never the file: kubelet replaces the file's target by
// renaming `..data`, so a watch on the file would go stale after the first update) and calls
// back once per burst of changes. Symlinks are not followed: the `..data` swap, the timestamped
// dirs coming and going, and plain writes or renames of a regular file all show up as events
// in the directory itself. A watcher that errors is closed and recreated, never left dead, and
// a directory replaced underneath the watch (new inode) is noticed on recheck().
import { stat } from 'node:fs/promises';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.ts';
import { Backoff } from './backoff.ts';
import type { ReloaderMetrics } from './metrics.ts';

/** Within a burst the quiet period restarts on every event, but a burst never delays the callback beyond this many debounce periods. */
export const DEBOUNCE_MAX_WAIT_FACTOR = 4;
/** Pause before recreating a watcher that failed; doubles while failures repeat, so a persistent error (inotify limits) cannot spin or flood the log. */
const WATCHER_RESTART_DELAY_MS = 1_000;
/** Cap of that backoff; a watcher that ran this long without failing starts again from the first delay. */
const WATCHER_RESTART_MAX_DELAY_MS = 60_000;

interface MountWatcherOptions {
  dirs: readonly string[];
  debounceMs: number;
  logger: Logger;
  metrics: ReloaderMetrics;
  onChange: (reason: string) => void;
}

type DirIdentity = string | undefined;

async function identityOf(dir: string): Promise<DirIdentity> {
  try {
    const info = await stat(dir);
    // Birth time too: a directory removed and recreated at once often gets the same inode number.
    return `${info.dev}:${info.ino}:${info.birthtimeMs}`;
  } catch {
    return undefined;
  }
}

async function identitiesOf(dirs: readonly string[]): Promise<DirIdentity[]> {
  return Promise.all(dirs.map(identityOf));
}

export class MountWatcher {
  readonly #options: MountWatcherOptions;
  #watcher: FSWatcher | undefined;
  #identities: DirIdentity[] = [];
  #quietTimer: NodeJS.Timeout | undefined;
  #burstDeadline: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly #restartBackoff = new Backoff(WATCHER_RESTART_DELAY_MS, WATCHER_RESTART_MAX_DELAY_MS);
  #startedAt = 0;
  #closed = false;
  /** The configured dirs plus those of the files the config references (follow()). */
  #dirs: readonly string[];

  constructor(options: MountWatcherOptions) {
    this.#options = options;
    this.#dirs = options.dirs;
  }

  /** Every directory being watched. */
  get dirs(): readonly string[] {
    return this.#dirs;
  }

  /**
   * Also watches these directories (where the config's certificates and keys live: a Secret
   * volume swaps `..data` there), recreating the watcher when the set changes.
   */
  async follow(extra: readonly string[]): Promise<void> {
    const dirs = [...new Set([...this.#options.dirs, ...extra])];
    if (this.#closed || (dirs.length === this.#dirs.length && dirs.every((d, i) => d === this.#dirs[i]))) return;
    this.#dirs = dirs;
    this.#options.logger.info({ event: 'watch_dirs', dirs }, `watching ${dirs.join(', ')}`);
    const old = this.#watcher;
    this.#watcher = undefined;
    await old?.close().catch(() => {});
    if (!this.#closed) await this.start();
  }

  /** True while a watcher is running (false between a failure and its replacement). */
  get active(): boolean {
    return this.#watcher !== undefined;
  }

  /** Starts watching; resolves once the initial scan is done, so later changes are seen. */
  async start(): Promise<void> {
    this.#startedAt = Date.now();
    this.#identities = await identitiesOf(this.#dirs);
    const watcher = watch([...this.#dirs], { ignoreInitial: true, depth: 0, followSymlinks: false, persistent: true });
    this.#watcher = watcher;
    watcher.on('all', (event, path) => this.#changed(`${event} ${path}`));
    // Raw fs events too: cheap insurance if chokidar's own diffing ever drops one.
    watcher.on('raw', (event, path) => this.#changed(`raw ${event} ${path}`));
    watcher.on('error', (err) => this.#failed(watcher, err as Error));
    await new Promise<void>((resolve) => watcher.once('ready', resolve));
  }

  /** Recreates the watcher if a watched dir was replaced, created or removed since it started. */
  async recheck(): Promise<void> {
    // Without a watcher, a restart is already scheduled.
    if (this.#closed || !this.#watcher) return;
    const now = await identitiesOf(this.#dirs);
    const moved = this.#dirs.filter((_, i) => now[i] !== this.#identities[i]);
    if (moved.length === 0) return;
    this.#options.logger.warn({ event: 'watcher_stale', dirs: moved }, 'a watched directory was replaced; recreating the watcher');
    await this.#restart();
    this.#options.onChange('watch-dir-replaced');
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#quietTimer);
    clearTimeout(this.#burstDeadline);
    clearTimeout(this.#restartTimer);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }

  #changed(detail: string): void {
    if (this.#closed) return;
    this.#options.logger.trace({ event: 'watch_event', detail }, 'filesystem event');
    const fire = () => {
      clearTimeout(this.#quietTimer);
      clearTimeout(this.#burstDeadline);
      this.#quietTimer = undefined;
      this.#burstDeadline = undefined;
      this.#options.onChange('watch');
    };
    clearTimeout(this.#quietTimer);
    this.#quietTimer = setTimeout(fire, this.#options.debounceMs);
    this.#burstDeadline ??= setTimeout(fire, this.#options.debounceMs * DEBOUNCE_MAX_WAIT_FACTOR);
  }

  #failed(watcher: FSWatcher, err: Error): void {
    const { logger, metrics } = this.#options;
    metrics.watcherErrors++;
    logger.error({ event: 'watcher_error', err: err.message, code: (err as NodeJS.ErrnoException).code }, `filesystem watcher failed: ${err.message}; recreating it`);
    if (this.#watcher !== watcher) return;
    // Inactive until replaced, so /healthz tells the truth in between.
    this.#watcher = undefined;
    void watcher.close().catch(() => {});
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (this.#closed || this.#restartTimer) return;
    if (Date.now() - this.#startedAt >= WATCHER_RESTART_MAX_DELAY_MS) this.#restartBackoff.reset();
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      void this.#restart().then(() => this.#options.onChange('watcher-restarted'));
    }, this.#restartBackoff.next());
  }

  async #restart(): Promise<void> {
    if (this.#closed) return;
    const old = this.#watcher;
    this.#watcher = undefined;
    await old?.close().catch(() => {});
    if (this.#closed) return;
    try {
      await this.start();
      this.#options.metrics.watcherRestarts++;
      this.#options.logger.info({ event: 'watcher_restarted', dirs: this.#dirs }, 'filesystem watcher recreated');
    } catch (err) {
      this.#options.metrics.watcherErrors++;
      this.#options.logger.error({ event: 'watcher_error', err: (err as Error).message }, 'cannot recreate the filesystem watcher; trying again');
      this.#scheduleRestart();
    }
  }
}
