// The master process: owns the config file, the reload queue (shared by SIGHUP and the admin
// sockets; config-rollout.ts), the admin sockets and the worker pool. It serves no traffic itself.
import type { CertificateRow, MasterBackend, InfoFields, ProcessRow, ReloadOutcome, ServerRow, SocketRow, StatusOutcome, Target } from '../admin/backend.ts';
import type { AdminSocket } from '../admin/server.ts';
import { generationOf } from '../config/generation.ts';
import { loadConfigFile, type LoadedConfig } from '../config/load.ts';
import { SiteCache } from '../config/site-cache.ts';
import { namedGroups, type ServerAdminState } from '../config/upstream-groups.ts';
import { StartupError } from '../errors.ts';
import { createLogger, EXIT_LOG_FLUSH_MS, flushLogs, processWriter, type Logger } from '../log.ts';
import type { AggregatedView } from '../metrics/aggregator.ts';
import { certificateExpiryFamily, renderScrape } from '../metrics/exposition.ts';
import { ProcessSampler } from '../metrics/figures.ts';
import { MetricsHub } from '../metrics/hub.ts';
import type { MetricsListener } from '../metrics/listener.ts';
import { VERSION } from '../version.ts';
import { ConfigRollout, logConfigWarnings, type ReloadTrigger, type RunningConfig } from './config-rollout.ts';
import { HealthChecker } from './health/checker.ts';
import { SHUTDOWN_GRACE_MS } from './deadlines.ts';
import { startAdminSockets, startMetricsEndpoint } from './master-endpoints.ts';
import { ReloadHistory } from './reload-history.ts';
import { workerCount, workerInit } from './worker-init.ts';
import { WorkerOutputRelay } from './worker-output.ts';
import { WorkerPool } from './worker-pool.ts';

export class Master implements MasterBackend {
  readonly #file: string;
  readonly #startedAt = Date.now();
  readonly #logger: Logger;
  readonly #running: RunningConfig;
  readonly #rollout: ConfigRollout;
  readonly #history: ReloadHistory;
  readonly #pool: WorkerPool;
  readonly #health: HealthChecker;
  readonly #workerOutput = new WorkerOutputRelay(processWriter(1), processWriter(2));
  #adminSockets: AdminSocket[] = [];
  readonly #metrics: MetricsHub;
  #metricsListener: MetricsListener | undefined;
  #processSampler: ProcessSampler | undefined;
  #shuttingDown: Promise<void> | undefined;
  /** Addresses the workers listen on, as `address:port` with any port 0 resolved. */
  listeners: string[] = [];

  private constructor(file: string, loaded: LoadedConfig, siteCache: SiteCache) {
    this.#file = file;
    this.#running = { config: loaded.config, generation: generationOf(1, loaded) };
    this.#logger = createLogger({ level: loaded.config.logging.level, component: 'master' });
    this.#history = new ReloadHistory(this.#logger);
    this.#health = new HealthChecker(this.#logger, () => this.#pool.broadcast({ type: 'servers', states: this.#health.snapshot() }));
    this.#pool = new WorkerPool({
      logger: this.#logger,
      output: this.#workerOutput,
      lastFigures: (pid, relativePid, figures) => this.#metrics.lastFigures(pid, relativePid, figures),
      initFor: (relativePid) => workerInit(relativePid, this.#running.config, this.#running.generation, this.#health.snapshot()),
    });
    this.#metrics = new MetricsHub(this.#pool, () => this.#running.generation);
    this.#rollout = new ConfigRollout({
      file,
      siteCache,
      running: this.#running,
      logger: this.#logger,
      pool: this.#pool,
      health: this.#health,
      metrics: this.#metrics,
      history: this.#history,
      restartMetricsListener: () => this.#restartMetricsListener(),
    });
  }

  /** Loads `file`, starts the workers and admin sockets. Throws a ReverseProxyError on a bad config. */
  static async start(file: string): Promise<Master> {
    const siteCache = new SiteCache();
    const loaded = await loadConfigFile(file, siteCache);
    const master = new Master(file, loaded, siteCache);
    logConfigWarnings(master.#logger, loaded.warnings);
    await master.#start();
    return master;
  }

  async #start(): Promise<void> {
    const { config, generation } = this.#running;
    const workers = workerCount(config);
    try {
      this.listeners = await this.#pool.start(workers);
    } catch (err) {
      await this.#pool.drainAll(0);
      throw new StartupError((err as Error).message);
    }
    const listeners = this.listeners;
    this.#health.reconcile(namedGroups(config), generation.caFiles);
    this.#adminSockets = await startAdminSockets(config, this, this.#logger);
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
        generation: generation.id, sha256: generation.sha256 },
      `ready: ${workers} worker(s) listening on ${listeners.join(', ')}`,
    );
  }

  #startMetricsListener(): Promise<MetricsListener | undefined> {
    if (this.#running.config.metrics !== undefined) this.#processSampler ??= new ProcessSampler();
    return startMetricsEndpoint(this.#running.config.metrics, () => this.scrape(), this.#logger);
  }

  /** `restart` applies a changed `[metrics]` table: the master owns that listener. */
  async #restartMetricsListener(): Promise<void> {
    await this.#metricsListener?.close();
    this.#metricsListener = await this.#startMetricsListener();
  }

  /** The Prometheus text of the whole pod: every worker's figures summed, plus the master's own. */
  async scrape(): Promise<string> {
    const { view, stale } = await this.#metrics.collect();
    const rows = this.#pool.rows();
    const history = this.#history;
    this.#processSampler ??= new ProcessSampler();
    return renderScrape(view, {
      generation: this.#running.generation.id,
      sha256: this.#running.generation.sha256,
      reloadsOk: history.ok,
      reloadsFailed: history.failed,
      lastSuccessfulReloadSecs: history.lastSuccessAt / 1000,
      lastReloadOk: history.last === undefined ? undefined : history.last.result === 'ok',
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
    return this.#rollout.reload(trigger);
  }

  restart(): Promise<ReloadOutcome> {
    if (this.#shuttingDown) return Promise.resolve({ ok: false, message: 'shutting down' });
    return this.#rollout.restart();
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
      const timeoutMs = this.#running.config.shutdown_timeout_secs * 1000;
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
    return { ok: true, uptimeSecs: Math.floor((Date.now() - this.#startedAt) / 1000), sites: this.#running.generation.sites.length };
  }

  info(): InfoFields {
    const { generation } = this.#running;
    const last = this.#history.last;
    return {
      name: 'reverse-proxy',
      version: VERSION,
      pid: process.pid,
      relative_pid: 0,
      process_type: 'master',
      uptime_sec: Math.floor((Date.now() - this.#startedAt) / 1000),
      config_file: this.#file,
      config_sha256: generation.sha256,
      generation: generation.id,
      sites: generation.sites.length,
      workers: this.#pool.liveCount,
      reloads: this.#history.ok,
      reloads_failed: this.#history.failed,
      last_reload: last?.at.toISOString() ?? null,
      last_reload_result: last?.result ?? null,
      last_reload_message: last?.message ?? null,
    };
  }

  processes(): ProcessRow[] {
    const master: ProcessRow = { pid: process.pid, type: 'master', relativePid: 0, reloads: this.#history.ok, startedAt: this.#startedAt, version: VERSION, respawns: 0 };
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
    return this.#running.generation.certificates.map(({ cert: _cert, key: _key, ...row }) => row);
  }

  sendToWorker(target: Exclude<Target, { kind: 'master' }>, command: string): Promise<string> {
    return this.#pool.command(target.kind === 'pid' ? { pid: target.pid } : { relativePid: target.relativePid }, command);
  }
}
