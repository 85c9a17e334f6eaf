// Brings the proxy to the mounted config: hash the file and the certificates and keys it names
// (the same content hash the proxy reports), compare with what the proxy runs, send
// `reload` only when they differ, then confirm. Exactly one comparison runs at a time; a
// trigger that arrives meanwhile is remembered and runs right after (trigger-loop.ts), so no
// change is lost and never more than one reload is in flight. A config whose reload failed is
// remembered by hash and not sent again until it changes, or, if asked, after a capped
// exponential backoff (refused-config.ts).
import { performance } from 'node:perf_hooks';
import { AdminReplyError, AdminSocketOwnerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { errorText } from './error-text.ts';
import type { ReloaderMetrics } from './metrics.ts';
import { MountedConfig } from './mounted-config.ts';
import type { ProxyAdmin, ProxyInfo } from './proxy-admin.ts';
import { ProxyReachability } from './proxy-reachability.ts';
import { RefusedConfig } from './refused-config.ts';
import { logReload, shortSha, type ReloadReport } from './reload-report.ts';
import { TriggerLoop } from './trigger-loop.ts';

interface ReconcilerOptions {
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

export class Reconciler {
  readonly #options: ReconcilerOptions;
  readonly #loop: TriggerLoop;
  readonly #mounted: MountedConfig;
  readonly #reachability: ProxyReachability;
  readonly #refused: RefusedConfig;
  /** Hash last announced as in sync, so resyncs do not repeat the line. */
  #announcedInSync: string | undefined;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    const { logger, metrics } = options;
    this.#loop = new TriggerLoop(
      (reason) => this.#reconcile(reason),
      // A bug here must not end the loop for good: say so, and let the next trigger retry.
      (err, reason) => logger.error({ event: 'reconcile_error', err: errorText(err), trigger: reason }, 'comparison failed unexpectedly'),
    );
    this.#mounted = new MountedConfig(options.configFile, logger, metrics, options.onReferencedDirs);
    this.#reachability = new ProxyReachability(logger, metrics, options.socketRetryMaxMs);
    this.#refused = new RefusedConfig(options.retryFailedSecs, options.retryFailedMaxSecs);
  }

  /** Asks for a comparison; cheap and safe to call on every filesystem event. */
  trigger(reason: string): void {
    this.#loop.trigger(reason);
  }

  /** Resolves once no comparison is running or queued. */
  idle(): Promise<void> {
    return this.#loop.idle();
  }

  /** Stops scheduling work and resolves once the comparison in progress (if any) finished. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async #reachProxy(): Promise<ProxyInfo | undefined> {
    try {
      const info = await this.#options.proxy.info();
      this.#reachability.reachable();
      return info;
    } catch (err) {
      this.#proxyUnreachable(err);
      return undefined;
    }
  }

  #proxyUnreachable(err: unknown): void {
    if (err instanceof AdminSocketOwnerError) {
      // Waiting would not help: the path is someone else's until a person acts.
      this.#loop.halt();
      this.#options.metrics.proxyUp = false;
      this.#options.onRefused(err);
      return;
    }
    this.#loop.schedule(this.#reachability.unreachable(err), 'socket-retry');
  }

  #rememberFailure(sha256: string): void {
    const delay = this.#refused.remember(sha256);
    if (delay !== undefined) this.#loop.schedule(delay, 'retry-failed');
  }

  /** Whether the refused config may be sent again now; if later, a retry is scheduled. */
  #mayRetryRefused(): boolean {
    const wait = this.#refused.retryWaitMs();
    if (wait === undefined) return false;
    if (wait <= 0) return true;
    this.#loop.schedule(wait, 'retry-failed');
    return false;
  }

  #report(report: ReloadReport): void {
    this.#options.metrics.recordReload(report.result, report.durationMs);
    logReload(this.#options.logger, report);
    this.#options.onReload(report);
  }

  async #reconcile(trigger: string): Promise<void> {
    const { proxy, metrics, logger, configFile } = this.#options;
    const mounted = await this.#mounted.hash();
    if (mounted === undefined) return;
    const before = await this.#reachProxy();
    if (!before) return;

    metrics.inSync = before.config_sha256 === mounted;
    if (metrics.inSync) {
      // The proxy runs what is mounted (a revert, a restart, a manual reload): whatever failed
      // before is history, and mounting it again later is a new change worth one attempt.
      const refused = this.#refused.sha256;
      this.#refused.forget();
      if (this.#announcedInSync !== mounted) {
        const fields = { event: 'in_sync', sha256: mounted, generation: before.generation, trigger, ...(refused === undefined ? {} : { refused_sha256: refused }) };
        logger.info(
          fields,
          refused === undefined
            ? `the proxy runs the mounted config ${shortSha(mounted)}`
            : `back in sync: the proxy runs the mounted config ${shortSha(mounted)}; the refused config ${shortSha(refused)} is no longer mounted`,
        );
      }
      this.#announcedInSync = mounted;
      return;
    }
    // Out of sync: the next time the proxy runs what is mounted (a revert, say) is news again.
    this.#announcedInSync = undefined;
    if (this.#refused.sha256 === mounted && !this.#mayRetryRefused()) {
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
    const nowMounted = (await this.#mounted.hash()) ?? mounted;
    const changedMeanwhile = nowMounted !== mounted;
    // Ours, or (when the file changed during the reload) whichever newer version the proxy read.
    if (after.config_sha256 === mounted || (changedMeanwhile && after.config_sha256 !== before.config_sha256)) {
      if (this.#refused.sha256 === after.config_sha256) this.#refused.forget();
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
        `the proxy answered ok but runs config ${shortSha(after.config_sha256)}, not ${shortSha(mounted)} from ${configFile}; ` +
        `does --file name the file the proxy loads (${after.config_file || 'unknown'})?`,
    });
  }
}
