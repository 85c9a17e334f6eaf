// Takes the config file to the workers: `reload` (a new generation, same processes) and
// `restart` (new processes, new static settings). One SerialQueue runs them, one at a time
// (docs/architecture.md, "Reload, restart, drain"); shutdown does not wait in it.
import type { ReloadOutcome } from '../admin/backend.ts';
import { changedStaticKeys } from '../config/diff.ts';
import { generationOf, wireGeneration, type Generation } from '../config/generation.ts';
import { loadConfigFile } from '../config/load.ts';
import type { SiteCache } from '../config/site-cache.ts';
import type { Config } from '../config/schema.ts';
import { namedGroups } from '../config/upstream-groups.ts';
import type { Logger } from '../log.ts';
import type { MetricsHub } from '../metrics/hub.ts';
import type { HealthChecker } from './health/checker.ts';
import { publicMessage } from './public-message.ts';
import type { ReloadHistory } from './reload-history.ts';
import { CoalescingTask, SerialQueue } from './serial-queue.ts';
import { workerCount } from './worker-init.ts';
import type { WorkerPool } from './worker-pool.ts';

/**
 * A reload (read, validate, every worker's acknowledgement) that has not finished by then fails,
 * and the reloads queued behind it run. Longer than APPLY_TIMEOUT_MS plus a stable read, so it
 * only ever ends a reload that is stuck.
 */
const RELOAD_TIMEOUT_MS = 30_000;

/** Static keys that even `restart` cannot change, because the master itself holds them. */
const MASTER_ONLY_KEYS: ReadonlySet<string> = new Set(['admin_socket_path', 'admin_socket_mode', 'admin_sockets'] satisfies (keyof Config)[]);

export type ReloadTrigger = 'sighup' | 'socket';

/** What the master runs now; a reload or restart replaces these, everything else reads them. */
export interface RunningConfig {
  /** The static settings the running processes were started with. */
  config: Config;
  generation: Generation;
}

interface ConfigRolloutOptions {
  file: string;
  /** Sites validated by the last load, so a reload re-validates only the sites that changed. */
  siteCache: SiteCache;
  running: RunningConfig;
  logger: Logger;
  pool: WorkerPool;
  health: HealthChecker;
  metrics: MetricsHub;
  history: ReloadHistory;
  /** `restart` applies a changed `[metrics]` table: the master owns that listener. */
  restartMetricsListener(): Promise<void>;
}

export class ConfigRollout {
  readonly #options: ConfigRolloutOptions;
  readonly #queue = new SerialQueue();
  readonly #reload: CoalescingTask<ReloadOutcome>;
  /** What asked for the reload that is queued: one run can serve a SIGHUP and socket clients. */
  #pendingTriggers = new Set<ReloadTrigger>();

  constructor(options: ConfigRolloutOptions) {
    this.#options = options;
    this.#reload = new CoalescingTask(
      this.#queue,
      () => {
        const triggers = [...this.#pendingTriggers].sort();
        this.#pendingTriggers.clear();
        return this.#reloadNow(triggers);
      },
      { ms: RELOAD_TIMEOUT_MS, onTimeout: () => options.history.timedOut(RELOAD_TIMEOUT_MS) },
    );
  }

  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    this.#pendingTriggers.add(trigger);
    return this.#reload.run();
  }

  async #reloadNow(triggers: ReloadTrigger[]): Promise<ReloadOutcome> {
    const { file, siteCache, running, logger, pool, health, metrics, history } = this.#options;
    const started = performance.now();
    logger.info({ event: 'reload_start', triggers }, 'reload started');
    let outcome: ReloadOutcome;
    let reuse: Record<string, number> = {};
    try {
      const loaded = await loadConfigFile(file, siteCache);
      if (loaded.siteReuse !== undefined) reuse = { sites_parsed: loaded.siteReuse.parsed, sites_unchanged: loaded.siteReuse.reused };
      const staticChanges = changedStaticKeys(running.config, loaded.config);
      const previous = running.generation;
      running.generation = generationOf(previous.id + 1, loaded);
      health.reconcile(namedGroups(loaded.config), loaded.caFiles);
      const failures = await pool.applyAll(wireGeneration(running.generation, previous));
      metrics.reloaded();
      logConfigWarnings(logger, loaded.warnings);
      outcome = failures.length
        ? { ok: false, message: failures.map((f) => f.message).join('; ') }
        : { ok: true, warnings: [...staticChanges.map((key) => `${key} changed: restart required to apply it (use the restart command)`), ...loaded.warnings] };
    } catch (err) {
      outcome = { ok: false, message: publicMessage(err, logger) };
    }
    history.record(outcome, 'reload', triggers, started, running.generation, reuse);
    return outcome;
  }

  restart(): Promise<ReloadOutcome> {
    const { running, logger, history } = this.#options;
    return this.#queue.run(async () => {
      const started = performance.now();
      logger.info({ event: 'reload_start', triggers: ['restart'] }, 'restart started');
      let outcome: ReloadOutcome;
      try {
        outcome = await this.#restartNow();
      } catch (err) {
        outcome = { ok: false, message: publicMessage(err, logger) };
      }
      history.record(outcome, 'restart', ['restart'], started, running.generation);
      return outcome;
    });
  }

  async #restartNow(): Promise<ReloadOutcome> {
    const { file, siteCache, running, logger, pool, health, metrics } = this.#options;
    const loaded = await loadConfigFile(file, siteCache);
    const staticChanges = changedStaticKeys(running.config, loaded.config);
    const untouched = staticChanges.filter((key) => MASTER_ONLY_KEYS.has(key));
    const previous = { config: running.config, generation: running.generation };
    // The master keeps its admin sockets; everything else is what the new workers start with.
    const { admin_socket_path, admin_socket_mode, admin_sockets } = running.config;
    running.config = { ...loaded.config, admin_socket_path, admin_socket_mode, admin_sockets };
    running.generation = generationOf(running.generation.id + 1, loaded);
    logConfigWarnings(logger, loaded.warnings);
    const { replaced, failure } = await pool.replaceAll(workerCount(running.config), running.config.shutdown_timeout_secs * 1000);
    if (replaced > 0) {
      metrics.reloaded();
      health.reconcile(namedGroups(loaded.config), loaded.caFiles);
    }
    if (failure === undefined) {
      if (staticChanges.includes('metrics')) await this.#options.restartMetricsListener();
      return { ok: true, warnings: untouched.map((key) => `${key} changed: the admin sockets change only when the proxy process restarts`) };
    }
    if (replaced === 0) {
      // Nothing changed hands: the running processes and what the master says about them stay as they were.
      running.config = previous.config;
      running.generation = previous.generation;
      return { ok: false, message: `${failure.message}; no worker was replaced, all keep serving the previous config` };
    }
    // Some slots run the new static settings; the rest at least serve the same sites.
    const applyFailures = await pool.applyAll(running.generation);
    const restarted = replaced === 1 ? 'worker 1 was restarted' : `workers 1-${replaced} were restarted`;
    const kept = `${restarted}, the others kept their previous listeners and settings and now serve the new sites`;
    return { ok: false, message: [`${failure.message}; ${kept}`, ...applyFailures.map((f) => f.message)].join('; ') };
  }
}

/** Problems the config may have without being refused (a certificate close to expiry...). */
export function logConfigWarnings(logger: Logger, warnings: readonly string[]): void {
  for (const warning of warnings) logger.warn({ event: 'config_warning', message: warning }, warning);
}
