// Brings the proxy to the mounted config: hash the file and the certificates and keys it names
// (the same content hash the proxy reports), compare with what the proxy runs, send
// `reload` only when they differ, then confirm. Exactly one comparison runs at a time; a
// trigger that arrives meanwhile is remembered and runs right after, so no change is lost and
// never more than one reload is in flight. A config whose reload failed is remembered by hash
// and not sent again until it changes (or, if asked, after a capped exponential backoff).
import { performance } from 'node:perf_hooks';
import { mountedContent } from '../config/content-hash.ts';
import { AdminReplyError, AdminSocketOwnerError, ReverseProxyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Backoff } from './backoff.ts';
import type { ReloaderMetrics } from './metrics.ts';
import type { ProxyAdmin, ProxyInfo } from './proxy-admin.ts';

/** First wait after the proxy could not be reached; doubles up to --socket-retry-max-ms. */
export const SOCKET_RETRY_INITIAL_MS = 250;
/** While the proxy stays unreachable, repeat the warning at most this often. */
export const UNREACHABLE_LOG_INTERVAL_MS = 60_000;

export interface ReloadReport {
  result: 'ok' | 'failed';
  /** Hash the proxy runs after a success; the refused file's hash after a failure. */
  sha256: string;
  previousSha256: string;
  durationMs: number;
  /** The proxy's error for a failure. */
  message?: string;
  warnings: string[];
  generation?: number;
  trigger: string;
}

export interface ReconcilerOptions {
  configFile: string;
  proxy: ProxyAdmin;
  logger: Logger;
  metrics: ReloaderMetrics;
  retryFailedSecs: number;
  retryFailedMaxSecs: number;
  socketRetryMaxMs: number;
  /** Called once per reload outcome (Events); must not throw and is not awaited. */
  onReload: (report: ReloadReport) => void;
  /** Called when the socket belongs to a user we do not trust; the reconciler has stopped. */
  onRefused: (err: AdminSocketOwnerError) => void;
  /** Called with the directories of the files the mounted config references, before each comparison. */
  onReferencedDirs?: (dirs: string[]) => Promise<void>;
}

interface FailedConfig {
  sha256: string;
  retry: Backoff | undefined;
  retryAt: number | undefined;
}

const short = (sha: string) => sha.slice(0, 12);
const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class Reconciler {
  readonly #options: ReconcilerOptions;
  readonly #socketBackoff: Backoff;
  #pendingTrigger: string | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #timerDueAt = Infinity;
  #failed: FailedConfig | undefined;
  #unreachableSince: number | undefined;
  #lastUnreachableLog = 0;
  #readProblem: string | undefined;
  /** Hash last announced as in sync, so resyncs do not repeat the line. */
  #announcedInSync: string | undefined;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#socketBackoff = new Backoff(SOCKET_RETRY_INITIAL_MS, options.socketRetryMaxMs);
  }

  /** Asks for a comparison; cheap and safe to call on every filesystem event. */
  trigger(reason: string): void {
    if (this.#stopped) return;
    this.#pendingTrigger ??= reason;
    this.#running ??= this.#drain();
  }

  /** Resolves once no comparison is running or queued. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops scheduling work and resolves once the comparison in progress (if any) finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.idle();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pendingTrigger !== undefined && !this.#stopped) {
        const reason = this.#pendingTrigger;
        this.#pendingTrigger = undefined;
        try {
          await this.#reconcile(reason);
        } catch (err) {
          // A bug here must not end the loop for good: say so, and let the next trigger retry.
          this.#options.logger.error({ event: 'reconcile_error', err: describe(err), trigger: reason }, 'comparison failed unexpectedly');
        }
      }
    } finally {
      // Synchronous with the loop's last check, so a trigger can never fall in between.
      this.#running = undefined;
    }
  }

  #schedule(delayMs: number, reason: string): void {
    const dueAt = Date.now() + delayMs;
    if (this.#stopped || dueAt >= this.#timerDueAt) return;
    clearTimeout(this.#timer);
    this.#timerDueAt = dueAt;
    this.#timer = setTimeout(() => {
      this.#timerDueAt = Infinity;
      this.trigger(reason);
    }, delayMs);
    this.#timer.unref();
  }

  async #readMountedHash(): Promise<string | undefined> {
    const { configFile, logger, metrics } = this.#options;
    try {
      const { sha256: sha, dirs } = await mountedContent(configFile);
      await this.#options.onReferencedDirs?.(dirs);
      if (this.#readProblem !== undefined) logger.info({ event: 'config_readable', file: configFile }, 'config file is readable again');
      this.#readProblem = undefined;
      return sha;
    } catch (err) {
      metrics.configReadErrors++;
      const problem = describe(err);
      // Once per distinct problem: a missing file is re-checked on every resync.
      if (problem !== this.#readProblem) {
        logger.warn({ event: 'config_unreadable', file: configFile, code: (err as ReverseProxyError).code, err: problem }, `cannot read the config file: ${problem}`);
      }
      this.#readProblem = problem;
      return undefined;
    }
  }

  async #reachProxy(): Promise<ProxyInfo | undefined> {
    try {
      const info = await this.#options.proxy.info();
      this.#proxyReachable();
      return info;
    } catch (err) {
      this.#proxyUnreachable(err);
      return undefined;
    }
  }

  #proxyReachable(): void {
    if (this.#unreachableSince !== undefined) {
      this.#options.logger.info(
        { event: 'proxy_reachable', waited_ms: Date.now() - this.#unreachableSince, attempts: this.#socketBackoff.attempts },
        'the proxy answers on the admin socket',
      );
    }
    this.#unreachableSince = undefined;
    this.#socketBackoff.reset();
    this.#options.metrics.proxyUp = true;
  }

  #proxyUnreachable(err: unknown): void {
    const { logger, metrics } = this.#options;
    if (err instanceof AdminSocketOwnerError) {
      // Waiting would not help: the path is someone else's until a person acts.
      this.#stopped = true;
      clearTimeout(this.#timer);
      metrics.proxyUp = false;
      this.#options.onRefused(err);
      return;
    }
    metrics.socketErrors++;
    metrics.inSync = false;
    metrics.proxyUp = false;
    const now = Date.now();
    const delay = this.#socketBackoff.next();
    const first = this.#unreachableSince === undefined;
    this.#unreachableSince ??= now;
    if (first || now - this.#lastUnreachableLog >= UNREACHABLE_LOG_INTERVAL_MS) {
      this.#lastUnreachableLog = now;
      logger.warn(
        { event: 'proxy_unreachable', code: (err as ReverseProxyError).code, err: describe(err), retry_in_ms: delay, waiting_ms: now - this.#unreachableSince },
        first ? 'cannot reach the proxy; waiting for it' : 'still waiting for the proxy',
      );
    }
    this.#schedule(delay, 'socket-retry');
  }

  /** Whether a config that already failed may be sent again now. */
  #mayRetry(failed: FailedConfig): boolean {
    if (failed.retryAt === undefined) return false;
    const wait = failed.retryAt - Date.now();
    if (wait <= 0) return true;
    this.#schedule(wait, 'retry-failed');
    return false;
  }

  #rememberFailure(sha256: string): void {
    const { retryFailedSecs, retryFailedMaxSecs } = this.#options;
    const previous = this.#failed?.sha256 === sha256 ? this.#failed : undefined;
    const retry = previous?.retry ?? (retryFailedSecs > 0 ? new Backoff(retryFailedSecs * 1000, retryFailedMaxSecs * 1000) : undefined);
    const delay = retry?.next();
    this.#failed = { sha256, retry, retryAt: delay === undefined ? undefined : Date.now() + delay };
    if (delay !== undefined) this.#schedule(delay, 'retry-failed');
  }

  #report(report: ReloadReport): void {
    const { logger, metrics, onReload } = this.#options;
    metrics.recordReload(report.result, report.durationMs);
    const fields = {
      event: 'reload',
      result: report.result,
      sha256: report.sha256,
      previous_sha256: report.previousSha256,
      duration_ms: Math.round(report.durationMs),
      generation: report.generation,
      message: report.message,
      warnings: report.warnings.length > 0 ? report.warnings : undefined,
      trigger: report.trigger,
    };
    if (report.result === 'ok') logger.info(fields, `proxy reloaded config ${short(report.sha256)}`);
    else logger.error(fields, `proxy refused config ${short(report.sha256)}: ${report.message}`);
    onReload(report);
  }

  async #reconcile(trigger: string): Promise<void> {
    const { proxy, metrics, logger, configFile } = this.#options;
    const mounted = await this.#readMountedHash();
    if (mounted === undefined) return;
    const before = await this.#reachProxy();
    if (!before) return;

    metrics.inSync = before.config_sha256 === mounted;
    if (metrics.inSync) {
      // The proxy runs what is mounted (a revert, a restart, a manual reload): whatever failed
      // before is history, and mounting it again later is a new change worth one attempt.
      const refused = this.#failed?.sha256;
      this.#failed = undefined;
      if (this.#announcedInSync !== mounted) {
        const fields = { event: 'in_sync', sha256: mounted, generation: before.generation, trigger, ...(refused === undefined ? {} : { refused_sha256: refused }) };
        logger.info(
          fields,
          refused === undefined
            ? `the proxy runs the mounted config ${short(mounted)}`
            : `back in sync: the proxy runs the mounted config ${short(mounted)}; the refused config ${short(refused)} is no longer mounted`,
        );
      }
      this.#announcedInSync = mounted;
      return;
    }
    // Out of sync: the next time the proxy runs what is mounted (a revert, say) is news again.
    this.#announcedInSync = undefined;
    if (this.#failed?.sha256 === mounted && !this.#mayRetry(this.#failed)) {
      logger.debug({ event: 'reload_skipped', sha256: mounted, trigger }, 'config already failed to load; waiting for a change');
      return;
    }

    const started = performance.now();
    let reply;
    try {
      reply = await proxy.reload();
    } catch (err) {
      if (!(err instanceof AdminReplyError)) {
        // Whether the proxy applied it is unknown; the next comparison will tell.
        this.#proxyUnreachable(err);
        return;
      }
      reply = { ok: false as const, message: err.message };
    }
    const report = { previousSha256: before.config_sha256, warnings: [] as string[], trigger };

    if (!reply.ok) {
      this.#rememberFailure(mounted);
      this.#report({ ...report, result: 'failed', sha256: mounted, message: reply.message, durationMs: performance.now() - started });
      return;
    }

    const after = await this.#reachProxy();
    if (!after) return;
    const durationMs = performance.now() - started;
    const nowMounted = (await this.#readMountedHash()) ?? mounted;
    const changedMeanwhile = nowMounted !== mounted;
    // Ours, or (when the file changed during the reload) whichever newer version the proxy read.
    if (after.config_sha256 === mounted || (changedMeanwhile && after.config_sha256 !== before.config_sha256)) {
      if (this.#failed?.sha256 === after.config_sha256) this.#failed = undefined;
      metrics.inSync = after.config_sha256 === nowMounted;
      this.#announcedInSync = after.config_sha256;
      this.#report({ ...report, result: 'ok', sha256: after.config_sha256, generation: after.generation, warnings: reply.warnings, durationMs });
      if (!metrics.inSync) this.trigger('changed-during-reload');
      return;
    }
    if (changedMeanwhile) {
      // The proxy read the old bytes just before the swap: compare again with the new ones.
      this.trigger('changed-during-reload');
      return;
    }
    this.#rememberFailure(mounted);
    this.#report({
      ...report,
      result: 'failed',
      sha256: mounted,
      durationMs,
      message:
        `the proxy answered ok but runs config ${short(after.config_sha256)}, not ${short(mounted)} from ${configFile}; ` +
        `does --file name the file the proxy loads (${after.config_file || 'unknown'})?`,
    });
  }
}
