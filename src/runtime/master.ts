// The master process: owns the config file, the reload queue (shared by SIGHUP and the admin
// sockets), the admin sockets and the worker pool. It serves no traffic itself.
import type { CertificateRow, MasterBackend, InfoFields, ProcessRow, ReloadOutcome, ServerRow, SocketRow, StatusOutcome, Target } from '../admin/backend.ts';
import { describeFailure } from '../admin/reply.ts';
import { startAdminSocket, type AdminSocket } from '../admin/server.ts';
import { changedStaticKeys } from '../config/diff.ts';
import { generationOf, wireGeneration, type Generation } from '../config/generation.ts';
import { loadConfigFile, type LoadedConfig } from '../config/load.ts';
import { SiteCache } from '../config/site-cache.ts';
import type { AdminLevel, Config } from '../config/schema.ts';
import { namedGroups, type ServerAdminState } from '../config/upstream-groups.ts';
import { ReloadTimeoutError, ReverseProxyError, StartupError } from '../errors.ts';
import { createLogger, EXIT_LOG_FLUSH_MS, flushLogs, processWriter, type Logger } from '../log.ts';
import type { AggregatedView } from '../metrics/aggregator.ts';
import { certificateExpiryFamily, renderScrape } from '../metrics/exposition.ts';
import { ProcessSampler } from '../metrics/figures.ts';
import { MetricsHub } from '../metrics/hub.ts';
import { startMetricsListener, type MetricsListener } from '../metrics/listener.ts';
import { VERSION } from '../version.ts';
import { autoWorkerCount } from './cpu-count.ts';
import { HealthChecker } from './health/checker.ts';
import { SHUTDOWN_GRACE_MS } from './deadlines.ts';
import { CoalescingTask, SerialQueue } from './serial-queue.ts';
import { WorkerOutputRelay } from './worker-output.ts';
import { WorkerPool } from './worker-pool.ts';

/**
 * A reload (read, validate, every worker's acknowledgement) that has not finished by then fails,
 * and the reloads queued behind it run. Longer than APPLY_TIMEOUT_MS plus a stable read, so it
 * only ever ends a reload that is stuck.
 */
export const RELOAD_TIMEOUT_MS = 30_000;

/** Static keys that even `restart` cannot change, because the master itself holds them. */
const MASTER_ONLY_KEYS: ReadonlySet<string> = new Set(['admin_socket_path', 'admin_socket_mode', 'admin_sockets'] satisfies (keyof Config)[]);

type ReloadTrigger = 'sighup' | 'socket';

interface ReloadRecord {
  at: Date;
  result: 'ok' | 'failed';
  message: string | null;
}

/** A message fit for an admin reply: ours are written for people; anything else is hidden. */
function publicMessage(err: unknown, logger: Logger): string {
  if (!(err instanceof ReverseProxyError)) logger.error({ event: 'internal_error', err }, 'unexpected error');
  return describeFailure(err);
}

export class Master implements MasterBackend {
  readonly #file: string;
  /** Sites validated by the last load, so a reload re-validates only the sites that changed. */
  readonly #siteCache: SiteCache;
  readonly #startedAt = Date.now();
  readonly #logger: Logger;
  readonly #queue = new SerialQueue();
  readonly #reload: CoalescingTask<ReloadOutcome>;
  readonly #pool: WorkerPool;
  readonly #health: HealthChecker;
  readonly #workerOutput = new WorkerOutputRelay(processWriter(1), processWriter(2));
  /** The static settings the running processes were started with. */
  #config: Config;
  #generation: Generation;
  #adminSockets: AdminSocket[] = [];
  #reloads = 0;
  #reloadsFailed = 0;
  #lastReload: ReloadRecord | undefined;
  #lastSuccessAt = Date.now();
  readonly #metrics: MetricsHub;
  #metricsListener: MetricsListener | undefined;
  #processSampler: ProcessSampler | undefined;
  #shuttingDown: Promise<void> | undefined;
  /** What asked for the reload that is queued: one run can serve a SIGHUP and socket clients. */
  #pendingTriggers = new Set<ReloadTrigger>();
  /** Addresses the workers listen on, as `address:port` with any port 0 resolved. */
  listeners: string[] = [];

  private constructor(file: string, loaded: LoadedConfig, siteCache: SiteCache) {
    this.#file = file;
    this.#siteCache = siteCache;
    this.#config = loaded.config;
    this.#generation = generationOf(1, loaded);
    this.#logger = createLogger({ level: loaded.config.logging.level, component: 'master' });
    this.#health = new HealthChecker(this.#logger, () => this.#pool.broadcast({ type: 'servers', states: this.#health.snapshot() }));
    this.#reload = new CoalescingTask(
      this.#queue,
      () => {
        const triggers = [...this.#pendingTriggers].sort();
        this.#pendingTriggers.clear();
        return this.#reloadNow(triggers);
      },
      { ms: RELOAD_TIMEOUT_MS, onTimeout: () => this.#reloadTimedOut() },
    );
    this.#pool = new WorkerPool({
      logger: this.#logger,
      output: this.#workerOutput,
      lastFigures: (pid, relativePid, figures) => this.#metrics.lastFigures(pid, relativePid, figures),
      initFor: (relativePid) => ({
        relativePid,
        listeners: this.#config.listeners,
        logging: this.#config.logging,
        clientTimeouts: {
          client_header_timeout_secs: this.#config.client_header_timeout_secs,
          client_body_timeout_secs: this.#config.client_body_timeout_secs,
          keepalive_timeout_secs: this.#config.keepalive_timeout_secs,
        },
        generation: this.#generation,
        servers: this.#health.snapshot(),
        shutdownTimeoutMs: this.#config.shutdown_timeout_secs * 1000,
        requestIdHeader: this.#config.request_id_header,
      }),
    });
    this.#metrics = new MetricsHub(this.#pool, () => this.#generation);
  }

  /** Loads `file`, starts the workers and admin sockets. Throws a ReverseProxyError on a bad config. */
  static async start(file: string): Promise<Master> {
    const siteCache = new SiteCache();
    const loaded = await loadConfigFile(file, siteCache);
    const master = new Master(file, loaded, siteCache);
    master.#logWarnings(loaded.warnings);
    await master.#start();
    return master;
  }

  async #start(): Promise<void> {
    const workers = this.#workerCount(this.#config);
    try {
      this.listeners = await this.#pool.start(workers);
    } catch (err) {
      await this.#pool.drainAll(0);
      throw new StartupError((err as Error).message);
    }
    const listeners = this.listeners;
    this.#health.reconcile(namedGroups(this.#config), this.#generation.caFiles);
    this.#adminSockets = await this.#startAdminSockets();
    this.#metricsListener = await this.#startMetricsListener();
    process.on('SIGHUP', () => void this.#reloadFrom('sighup'));
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => this.#onStopSignal(signal));
    this.#logger.info(
      {
        event: 'ready',
        workers,
        listeners,
        admin_sockets: this.#adminSockets.map((s) => s.path),
        metrics: this.#metricsListener ? `${this.#metricsListener.address.address}:${this.#metricsListener.address.port}` : null,
        generation: this.#generation.id, sha256: this.#generation.sha256 },
      `ready: ${workers} worker(s) listening on ${listeners.join(', ')}`,
    );
  }

  /** Problems the config may have without being refused (a certificate close to expiry...). */
  #logWarnings(warnings: readonly string[]): void {
    for (const warning of warnings) this.#logger.warn({ event: 'config_warning', message: warning }, warning);
  }

  #workerCount(config: Config): number {
    return config.workers === 'auto' ? autoWorkerCount() : config.workers;
  }

  async #startAdminSockets(): Promise<AdminSocket[]> {
    const wanted: { path: string; mode: number; level: AdminLevel }[] = [];
    if (this.#config.admin_socket_path !== '') wanted.push({ path: this.#config.admin_socket_path, mode: this.#config.admin_socket_mode, level: 'admin' });
    wanted.push(...this.#config.admin_sockets);
    const started: AdminSocket[] = [];
    for (const spec of wanted) {
      try {
        const socket = await startAdminSocket({ ...spec, backend: this, logger: this.#logger });
        if (socket) started.push(socket);
      } catch (err) {
        // Traffic matters more than the admin socket: say why it is missing and keep serving.
        this.#logger.error({ event: 'admin_socket_failed', path: spec.path, message: publicMessage(err, this.#logger) }, `admin socket ${spec.path} not started`);
      }
    }
    return started;
  }

  async #startMetricsListener(): Promise<MetricsListener | undefined> {
    const config = this.#config.metrics;
    if (config === undefined) return undefined;
    this.#processSampler ??= new ProcessSampler();
    try {
      return await startMetricsListener(config, () => this.scrape(), (err) =>
        this.#logger.warn({ event: 'metrics_scrape_failed', message: err.message }, `metrics scrape failed: ${err.message}`),
      );
    } catch (err) {
      // As with the admin sockets, traffic matters more: say why metrics are missing, keep serving.
      this.#logger.error({ event: 'metrics_listener_failed', address: config.address, port: config.port, message: (err as Error).message }, 'metrics listener not started');
      return undefined;
    }
  }

  /** The Prometheus text of the whole pod: every worker's figures summed, plus the master's own. */
  async scrape(): Promise<string> {
    const { view, stale } = await this.#metrics.collect();
    const rows = this.#pool.rows();
    this.#processSampler ??= new ProcessSampler();
    return renderScrape(view, {
      generation: this.#generation.id,
      sha256: this.#generation.sha256,
      reloadsOk: this.#reloads,
      reloadsFailed: this.#reloadsFailed,
      lastSuccessfulReloadSecs: this.#lastSuccessAt / 1000,
      lastReloadOk: this.#lastReload === undefined ? undefined : this.#lastReload.result === 'ok',
      workerRespawns: rows.reduce((sum, r) => sum + r.respawns, 0),
      liveWorkers: this.#pool.liveCount,
      oldWorkers: rows.filter((r) => r.old).length,
      staleWorkers: stale,
      startTimeSecs: this.#startedAt / 1000,
      master: this.#processSampler.take(),
      extra: [certificateExpiryFamily(this.certificates())],
    });
  }

  async stat(): Promise<AggregatedView> {
    return (await this.#metrics.collect()).view;
  }

  // ---- reload and restart -------------------------------------------------------------------

  reload(): Promise<ReloadOutcome> {
    return this.#reloadFrom('socket');
  }

  #reloadFrom(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    if (this.#shuttingDown) return Promise.resolve({ ok: false, message: 'shutting down' });
    this.#pendingTriggers.add(trigger);
    return this.#reload.run();
  }

  async #reloadNow(triggers: ReloadTrigger[]): Promise<ReloadOutcome> {
    const started = performance.now();
    this.#logger.info({ event: 'reload_start', triggers }, 'reload started');
    let outcome: ReloadOutcome;
    let reuse: Record<string, number> = {};
    try {
      const loaded = await loadConfigFile(this.#file, this.#siteCache);
      if (loaded.siteReuse !== undefined) reuse = { sites_parsed: loaded.siteReuse.parsed, sites_unchanged: loaded.siteReuse.reused };
      const staticChanges = changedStaticKeys(this.#config, loaded.config);
      const previous = this.#generation;
      this.#generation = generationOf(previous.id + 1, loaded);
      this.#health.reconcile(namedGroups(loaded.config), loaded.caFiles);
      const failures = await this.#pool.applyAll(wireGeneration(this.#generation, previous));
      this.#metrics.reloaded();
      this.#logWarnings(loaded.warnings);
      outcome = failures.length
        ? { ok: false, message: failures.map((f) => f.message).join('; ') }
        : { ok: true, warnings: [...staticChanges.map((key) => `${key} changed: restart required to apply it (use the restart command)`), ...loaded.warnings] };
    } catch (err) {
      outcome = { ok: false, message: publicMessage(err, this.#logger) };
    }
    this.#record(outcome, 'reload', triggers, started, reuse);
    return outcome;
  }

  restart(): Promise<ReloadOutcome> {
    if (this.#shuttingDown) return Promise.resolve({ ok: false, message: 'shutting down' });
    return this.#queue.run(async () => {
      const started = performance.now();
      this.#logger.info({ event: 'reload_start', triggers: ['restart'] }, 'restart started');
      let outcome: ReloadOutcome;
      try {
        outcome = await this.#restartNow();
      } catch (err) {
        outcome = { ok: false, message: publicMessage(err, this.#logger) };
      }
      this.#record(outcome, 'restart', ['restart'], started);
      return outcome;
    });
  }

  async #restartNow(): Promise<ReloadOutcome> {
    const loaded = await loadConfigFile(this.#file, this.#siteCache);
    const untouched = changedStaticKeys(this.#config, loaded.config).filter((key) => MASTER_ONLY_KEYS.has(key));
    const previous = { config: this.#config, generation: this.#generation };
    // The master keeps its admin sockets; everything else is what the new workers start with.
    const { admin_socket_path, admin_socket_mode, admin_sockets, metrics: metricsBefore } = this.#config;
    this.#config = { ...loaded.config, admin_socket_path, admin_socket_mode, admin_sockets };
    this.#generation = generationOf(this.#generation.id + 1, loaded);
    this.#logWarnings(loaded.warnings);
    const { replaced, failure } = await this.#pool.replaceAll(this.#workerCount(this.#config), this.#config.shutdown_timeout_secs * 1000);
    if (replaced > 0) {
      this.#metrics.reloaded();
      this.#health.reconcile(namedGroups(loaded.config), loaded.caFiles);
    }
    if (failure === undefined) {
      if (JSON.stringify(metricsBefore) !== JSON.stringify(this.#config.metrics)) await this.#restartMetricsListener();
      return { ok: true, warnings: untouched.map((key) => `${key} changed: the admin sockets change only when the proxy process restarts`) };
    }
    if (replaced === 0) {
      // Nothing changed hands: the running processes and what the master says about them stay as they were.
      this.#config = previous.config;
      this.#generation = previous.generation;
      return { ok: false, message: `${failure.message}; no worker was replaced, all keep serving the previous config` };
    }
    // Some slots run the new static settings; the rest at least serve the same sites.
    const applyFailures = await this.#pool.applyAll(this.#generation);
    const restarted = replaced === 1 ? 'worker 1 was restarted' : `workers 1-${replaced} were restarted`;
    const kept = `${restarted}, the others kept their previous listeners and settings and now serve the new sites`;
    return { ok: false, message: [`${failure.message}; ${kept}`, ...applyFailures.map((f) => f.message)].join('; ') };
  }

  /** A reload still running at RELOAD_TIMEOUT_MS fails; the queue moves on without it. */
  #reloadTimedOut(): ReloadOutcome {
    const outcome: ReloadOutcome = { ok: false, message: new ReloadTimeoutError(RELOAD_TIMEOUT_MS).message };
    this.#reloadsFailed++;
    this.#lastReload = { at: new Date(), result: 'failed', message: outcome.message };
    this.#logger.error({ event: 'reload', result: 'failed', code: 'ERR_RELOAD_TIMEOUT', timeout_ms: RELOAD_TIMEOUT_MS, message: outcome.message }, outcome.message);
    return outcome;
  }

  /** `extra`: more fields for the log line (how many sites a reload parsed and kept). */
  #record(outcome: ReloadOutcome, kind: 'reload' | 'restart', triggers: string[], started: number, extra: Record<string, number> = {}): void {
    const fields = { event: kind, triggers, generation: this.#generation.id, sha256: this.#generation.sha256, duration_ms: Math.round((performance.now() - started) * 100) / 100, ...extra };
    if (outcome.ok) {
      this.#reloads++;
      this.#lastReload = { at: new Date(), result: 'ok', message: null };
      this.#lastSuccessAt = this.#lastReload.at.getTime();
      const warnings = outcome.warnings.length ? { warnings: outcome.warnings } : {};
      this.#logger.info({ ...fields, result: 'ok', ...warnings }, `${kind} applied generation ${this.#generation.id}`);
    } else {
      this.#reloadsFailed++;
      this.#lastReload = { at: new Date(), result: 'failed', message: outcome.message };
      this.#logger.error({ ...fields, result: 'failed', message: outcome.message }, `${kind} failed; the running config keeps serving: ${outcome.message}`);
    }
  }

  /** `restart` applies a changed `[metrics]` table: the master owns that listener. */
  async #restartMetricsListener(): Promise<void> {
    await this.#metricsListener?.close();
    this.#metricsListener = await this.#startMetricsListener();
  }

  // ---- shutdown -----------------------------------------------------------------------------

  #onStopSignal(signal: NodeJS.Signals): void {
    if (!this.#shuttingDown) {
      void this.shutdown(signal);
      return;
    }
    // Runtimes repeat SIGTERM (podman stop does); only a person pressing Ctrl-C again means
    // "stop now".
    if (signal === 'SIGINT') this.#exitNow({ event: 'shutdown_forced', signal }, 'second SIGINT: exiting without waiting for the drain');
    this.#logger.info({ event: 'shutdown_signal_repeated', signal }, `${signal} again: still draining`);
  }

  /**
   * Marks the proxy not ready, drains every worker, closes the admin sockets and exits 0, all
   * within shutdown_timeout_secs plus SHUTDOWN_GRACE_MS: past that, whatever is still running
   * is killed and the master exits 1.
   */
  shutdown(reason: string): Promise<void> {
    this.#shuttingDown ??= (async () => {
      const timeoutMs = this.#config.shutdown_timeout_secs * 1000;
      this.#logger.info({ event: 'draining', reason, timeout_ms: timeoutMs }, `${reason}: draining for up to ${timeoutMs} ms`);
      this.#health.stop();
      setTimeout(
        () => this.#exitNow({ event: 'shutdown_deadline', timeout_ms: timeoutMs, grace_ms: SHUTDOWN_GRACE_MS }, `still not stopped ${SHUTDOWN_GRACE_MS} ms after the drain deadline: killing what is left`),
        timeoutMs + SHUTDOWN_GRACE_MS,
      );
      // Not through the reload queue: a reload or restart in progress must not hold shutdown.
      // Its workers are drained like the others, and it fails once they are gone.
      await this.#pool.drainAll(timeoutMs);
      await Promise.all([...this.#adminSockets.map((s) => s.close()), this.#metricsListener?.close()]);
      // The workers' last lines (their drop counts, "worker stopped") may still be in their pipes.
      await this.#workerOutput.ended(EXIT_LOG_FLUSH_MS);
      this.#logger.info({ event: 'shutdown' }, 'stopped');
      await flushLogs(EXIT_LOG_FLUSH_MS);
      process.exit(0);
    })();
    return this.#shuttingDown;
  }

  /** Kills every worker and exits 1 now; the log line says why and which processes were killed. */
  #exitNow(fields: Record<string, unknown>, message: string): never {
    const killed = this.#pool.killAll();
    this.#logger.error({ ...fields, killed_pids: killed }, message);
    process.exit(1);
  }

  // ---- what the admin socket reads -----------------------------------------------------------

  status(): StatusOutcome {
    if (this.#shuttingDown) return { ok: false, message: 'shutting down' };
    if (this.#pool.liveCount === 0) return { ok: false, message: 'no live worker' };
    return { ok: true, uptimeSecs: Math.floor((Date.now() - this.#startedAt) / 1000), sites: this.#generation.sites.length };
  }

  info(): InfoFields {
    return {
      name: 'reverse-proxy',
      version: VERSION,
      pid: process.pid,
      relative_pid: 0,
      process_type: 'master',
      uptime_sec: Math.floor((Date.now() - this.#startedAt) / 1000),
      config_file: this.#file,
      config_sha256: this.#generation.sha256,
      generation: this.#generation.id,
      sites: this.#generation.sites.length,
      workers: this.#pool.liveCount,
      reloads: this.#reloads,
      reloads_failed: this.#reloadsFailed,
      last_reload: this.#lastReload?.at.toISOString() ?? null,
      last_reload_result: this.#lastReload?.result ?? null,
      last_reload_message: this.#lastReload?.message ?? null,
    };
  }

  processes(): ProcessRow[] {
    const master: ProcessRow = { pid: process.pid, type: 'master', relativePid: 0, reloads: this.#reloads, startedAt: this.#startedAt, version: VERSION, respawns: 0 };
    return [master, ...this.#pool.rows()];
  }

  sockets(): SocketRow[] {
    return this.#adminSockets.map((s) => ({ path: s.path, level: s.level, mode: s.mode }));
  }

  async servers(): Promise<ServerRow[]> {
    // Connections are the workers' pools to that origin, summed like a metrics scrape.
    const { view } = await this.#metrics.collect();
    const active = new Map(view.upstreams.map((u) => [u.server, u.activeConnections]));
    return this.#health.rows().map((row) => ({ ...row, active: active.get(row.url) ?? 0 }));
  }

  setServerState(group: string, url: string, state: ServerAdminState): string | undefined {
    return this.#health.setAdminState(group, url, state);
  }

  certificates(): CertificateRow[] {
    return this.#generation.certificates.map(({ cert: _cert, key: _key, ...row }) => row);
  }

  sendToWorker(target: Exclude<Target, { kind: 'master' }>, command: string): Promise<string> {
    return this.#pool.command(target.kind === 'pid' ? { pid: target.pid } : { relativePid: target.relativePid }, command);
  }
}
