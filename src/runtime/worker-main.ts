// Entry point of a worker process (forked by WorkerPool through node:cluster). It serves
// traffic with a ProxyServer, applies the generations the master sends, answers routed admin
// commands, and drains when told to or when the master goes away.
import cluster from 'node:cluster';
import { runWorkerCommand } from '../admin/worker-commands.ts';
import type { InfoFields, StatusOutcome, WorkerBackend } from '../admin/backend.ts';
import { createLogger, EXIT_LOG_FLUSH_MS, flushLogs, type Logger } from '../log.ts';
import { FiguresAggregator, type AggregatedView } from '../metrics/aggregator.ts';
import type { WorkerFigures } from '../metrics/figures.ts';
import { seriesOf } from '../metrics/series.ts';
import { ProxyServer } from '../proxy/server.ts';
import { describeStillOpen } from '../proxy/still-open.ts';
import { VERSION } from '../version.ts';
import { LAST_FIGURES_SEND_MS, WORKER_CLOSE_GRACE_MS } from './deadlines.ts';
import type { MasterToWorker, WorkerInit, WorkerToMaster } from './messages.ts';

/** How long a worker whose master died keeps serving the requests it already has (at most its own drain deadline). */
export const ORPHAN_DRAIN_TIMEOUT_MS = 5_000;

const startedAt = Date.now();
const masterPid = process.ppid;

/** The master is gone: the IPC channel closed, or this process was handed to another parent. */
const orphaned = () => !process.connected || process.ppid !== masterPid;

function send(message: WorkerToMaster): void {
  if (process.connected) process.send?.(message);
}

/**
 * Hands the figures to the master before the worker exits, waiting at most LAST_FIGURES_SEND_MS
 * for the channel to take them: the master's last collection came before the drain's deadline,
 * so without them the requests the drain cut would never be counted.
 */
function sendLastFigures(figures: WorkerFigures): Promise<void> {
  const channel = process.send?.bind(process);
  if (!process.connected || channel === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, LAST_FIGURES_SEND_MS);
    channel({ type: 'last_figures', figures } satisfies WorkerToMaster, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

class Worker implements WorkerBackend {
  readonly #init: WorkerInit;
  readonly #server: ProxyServer;
  readonly #logger: Logger;
  #reloads = 0;
  #reloadsFailed = 0;
  #draining: Promise<void> | undefined;

  constructor(init: WorkerInit) {
    this.#init = init;
    this.#logger = createLogger({ level: init.logging.level, component: 'worker', bindings: { relative_pid: init.relativePid } });
    this.#server = new ProxyServer({ listeners: init.listeners, logger: this.#logger, accessLog: init.logging.access_log, clientTimeouts: init.clientTimeouts, requestIdHeader: init.requestIdHeader });
    this.#server.applyServerStates(init.servers);
    this.#server.apply(init.generation);
  }

  async start(): Promise<void> {
    const listeners = await this.#server.listen();
    send({ type: 'ready', listeners });
  }

  onMessage(message: MasterToWorker): void {
    switch (message.type) {
      case 'apply':
        try {
          this.#server.apply(message.generation);
          this.#reloads++;
          send({ type: 'applied', generationId: message.generation.id });
        } catch (err) {
          this.#reloadsFailed++;
          send({ type: 'apply_failed', generationId: message.generation.id, message: (err as Error).message });
        }
        return;
      case 'servers':
        this.#server.applyServerStates(message.states);
        return;
      case 'command':
        send({ type: 'command_reply', requestId: message.requestId, text: runWorkerCommand(message.line, this) });
        return;
      case 'drain':
        void this.drain(message.timeoutMs);
        return;
      case 'collect_figures':
        send({ type: 'figures', requestId: message.requestId, figures: this.#figures() });
        return;
      case 'init':
        return;
    }
  }

  drain(timeoutMs: number): Promise<void> {
    this.#draining ??= (async () => {
      this.#logger.info({ event: 'draining', timeout_ms: timeoutMs }, 'draining');
      // The server destroys what is left at the deadline; what still has not closed a short
      // grace later is logged, and the worker goes anyway.
      const stillOpen = await this.#server.drain(timeoutMs, WORKER_CLOSE_GRACE_MS);
      if (stillOpen !== undefined) {
        this.#logger.warn({ event: 'drain_incomplete', grace_ms: WORKER_CLOSE_GRACE_MS, ...stillOpen }, `still open ${WORKER_CLOSE_GRACE_MS} ms after the drain deadline: ${describeStillOpen(stillOpen)}; exiting anyway`);
      }
      await sendLastFigures(this.#figures());
      await this.stop(0, { event: 'shutdown' }, 'worker stopped');
    })();
    return this.#draining;
  }

  /** The master is gone; a worker already draining keeps its own deadline. */
  drainAsOrphan(): void {
    void this.drain(Math.min(ORPHAN_DRAIN_TIMEOUT_MS, this.#init.shutdownTimeoutMs));
  }

  /** Logs `fields`, gives the log a moment to reach stdout (never longer), and exits. */
  async stop(code: number, fields: Record<string, unknown>, message: string): Promise<never> {
    this.#logger.info(fields, message);
    await flushLogs(EXIT_LOG_FLUSH_MS);
    process.exit(code);
  }

  /**
   * SIGTERM/SIGINT: the first drains. With no master left to coordinate a drain, any stop signal
   * means now, as does a second Ctrl-C.
   */
  onStopSignal(signal: NodeJS.Signals): void {
    if (orphaned()) return void this.stop(1, { event: 'shutdown_forced', signal }, `${signal} with the master gone: exiting now`);
    if (!this.#draining) return void this.drain(this.#init.shutdownTimeoutMs);
    if (signal === 'SIGINT') void this.stop(1, { event: 'shutdown_forced', signal }, 'second SIGINT: exiting without waiting for the drain');
  }

  status(): StatusOutcome {
    if (this.#draining) return { ok: false, message: 'shutting down' };
    return { ok: true, uptimeSecs: Math.floor((Date.now() - startedAt) / 1000), sites: this.#server.stats().sites };
  }

  info(): InfoFields {
    const generation = this.#server.generation;
    const stats = this.#server.stats();
    return {
      name: 'reverse-proxy',
      version: VERSION,
      pid: process.pid,
      relative_pid: this.#init.relativePid,
      process_type: 'worker',
      uptime_sec: Math.floor((Date.now() - startedAt) / 1000),
      config_sha256: generation?.sha256 ?? '',
      generation: generation?.id ?? 0,
      sites: stats.sites,
      reloads: this.#reloads,
      reloads_failed: this.#reloadsFailed,
      draining: this.#draining !== undefined,
      active_connections: stats.activeConnections,
      active_requests: stats.activeRequests,
    };
  }

  #figures(): WorkerFigures {
    return this.#server.figures();
  }

  /** This worker's own figures in the shape of the master's sum, for `@1 show stat`. */
  stat(): AggregatedView {
    const own = new FiguresAggregator();
    own.record(process.pid, this.#init.relativePid, this.#figures());
    return own.view(seriesOf(this.#server.generation ?? { sites: [] }), new Set([process.pid]));
  }

  sites(): string[] {
    return this.#server.siteLines();
  }
}

// A terminal's Ctrl-C or hangup reaches the whole process group; the master decides what a
// hangup means (reload), and a worker asked to stop drains like it would for the master.
process.on('SIGHUP', () => undefined);

let worker: Worker | undefined;
process.on('message', (message: MasterToWorker) => {
  if (message.type === 'init' && !worker) {
    try {
      worker = new Worker(message.init);
    } catch (err) {
      send({ type: 'init_failed', message: (err as Error).message });
      process.exit(1);
    }
    const started = worker;
    started.start().catch((err: Error) => {
      send({ type: 'init_failed', message: err.message });
      process.exit(1);
    });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => started.onStopSignal(signal));
    return;
  }
  worker?.onMessage(message);
});
// Without a master nobody can reload or route to this worker: finish what is running and go.
// node:cluster's own handler would exit at once, cutting every request in flight, unless told
// the disconnect was expected; this worker drains instead, within its deadline.
if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
process.on('disconnect', () => (worker ? worker.drainAsOrphan() : process.exit(0)));
