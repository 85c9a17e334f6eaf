// The master's view of its workers: one numbered slot per worker (relative PIDs 1..N), forking,
// respawn after a crash, config broadcast with acknowledgements, routed commands, rolling
// replacement (rolling-restart.ts) and drain. One worker's IPC is worker-process.ts. It knows
// nothing about config files or admin sockets.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { WorkerApplyError, WorkerUnavailableError } from '../errors.ts';
import type { WireGeneration } from '../config/generation.ts';
import type { ProcessRow } from '../admin/backend.ts';
import type { Logger } from '../log.ts';
import type { WorkerFigures } from '../metrics/figures.ts';
import type { MasterToWorker, WorkerInit } from './messages.ts';
import { WORKER_KILL_GRACE_MS } from './deadlines.ts';
import { processRows } from './process-rows.ts';
import { crashStreakAfter, respawnDelayMs } from './respawn-backoff.ts';
import { replaceAll, type ReplaceOutcome, type RestartablePool } from './rolling-restart.ts';
import { ENTRY_FLAGS_VARIABLE, workerExecArgv } from './worker-flags.ts';
import type { WorkerOutputRelay } from './worker-output.ts';
import { WorkerProcess } from './worker-process.ts';
import { emptySlot, type Slot } from './worker-slot.ts';

const workerEntry = fileURLToPath(new URL(`./worker-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

interface WorkerPoolOptions {
  logger: Logger;
  /** What a worker in `slot` starts with: called at every fork, so respawns get the current generation. */
  initFor(slot: number): WorkerInit;
  /** Passes each worker's stdout and stderr on; workers never inherit the master's. */
  output: WorkerOutputRelay;
  /** A drained worker's figures, sent just before it exits. */
  lastFigures(pid: number, relativePid: number, figures: WorkerFigures): void;
}

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  /** Workers draining after being replaced; they still answer routed commands until they exit. */
  readonly #retiring = new Set<WorkerProcess>();
  /** The pool's bookkeeping as the rolling restart drives it. */
  readonly #restartable: RestartablePool;
  #stopping = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    cluster.setupPrimary({ exec: workerEntry, args: [], execArgv: workerExecArgv(process.execArgv, process.env['NODE_OPTIONS'], process.env[ENTRY_FLAGS_VARIABLE]), silent: true });
    this.#restartable = {
      slotCount: () => this.#slots.length,
      slotFor: (relativePid) => this.#slotFor(relativePid),
      fork: (slot) => this.#fork(slot),
      markRetiring: (worker) => this.#markRetiring(worker),
      unretire: (worker) => {
        worker.retiring = false;
        this.#retiring.delete(worker);
      },
      retire: (worker, drainTimeoutMs) => this.#retire(worker, drainTimeoutMs),
      cancelRespawn: (slot) => this.#cancelRespawn(slot),
      scheduleRespawn: (slot, delayMs) => this.#scheduleRespawn(slot, delayMs),
      removeSlotsFrom: (relativePid) => this.#slots.splice(relativePid - 1),
    };
  }

  /** Forks `count` workers and resolves with the listener addresses once all are listening. */
  async start(count: number): Promise<string[]> {
    const started = Array.from({ length: count }, (_, i) => this.#fork(this.#slotFor(i + 1)));
    const listeners = await Promise.all(started.map((w) => w.ready));
    return listeners[0] ?? [];
  }

  get liveCount(): number {
    return this.#slots.filter((s) => s.current?.listening).length;
  }

  /**
   * Sends `generation` to every live worker that does not serve it yet and waits for each to
   * acknowledge it. A worker that times out or dies is replaced (its replacement starts on the
   * current generation); the error names it.
   */
  async applyAll(generation: WireGeneration): Promise<WorkerApplyError[]> {
    const live = this.#slots.flatMap((s) => (s.current && !s.current.retiring && s.current.generationId !== generation.id ? [s.current] : []));
    const results = await Promise.allSettled(live.map((w) => w.apply(generation)));
    const failures: WorkerApplyError[] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const worker = live[i]!;
      const reason = (result.reason as Error).message;
      failures.push(new WorkerApplyError(worker.slot, `${reason}; it is replaced by a worker started with the new config`));
      if (!worker.worker.isDead()) worker.worker.process.kill('SIGKILL');
    });
    return failures;
  }

  /** Sends `message` to every worker that serves or is starting, without waiting for an answer. */
  broadcast(message: MasterToWorker): void {
    for (const slot of this.#slots) slot.current?.send(message);
  }

  /**
   * Runs a command on one worker. During a restart a slot has a new worker that is not
   * listening yet and an old one still draining; the old one answers until the new one can.
   */
  async command(target: { relativePid: number } | { pid: number }, line: string): Promise<string> {
    const name = 'pid' in target ? `process ${target.pid}` : `worker ${target.relativePid}`;
    const matches = (w: WorkerProcess) => ('pid' in target ? w.pid === target.pid : w.slot === target.relativePid);
    const candidates = [...this.#slots.flatMap((s) => (s.current ? [s.current] : [])), ...this.#retiring].filter(matches);
    const worker = candidates.find((w) => w.listening && !w.worker.isDead());
    if (!worker) throw new WorkerUnavailableError(name, candidates.length ? 'starting up, try again shortly' : 'no such process');
    try {
      return await worker.command(line);
    } catch (err) {
      throw new WorkerUnavailableError(name, (err as Error).message);
    }
  }

  /** Every process serving or draining now, by pid; the master's metrics sum over these. */
  alivePids(): Set<number> {
    return new Set(this.#serving().map((w) => w.pid));
  }

  /**
   * The pid of each slot's worker, old workers still draining left out: the processes a scrape
   * gives a row of their own, so no relative PID has two.
   */
  slotPids(): Set<number> {
    return new Set(this.#slots.flatMap((s) => (s.current ? [s.current.pid] : [])));
  }

  /**
   * Asks every serving or draining worker for its metrics figures at once. A worker that does
   * not answer within FIGURES_TIMEOUT_MS (busy, or just dying) yields `figures: undefined`.
   */
  collectFigures(): Promise<{ pid: number; relativePid: number; figures: WorkerFigures | undefined }[]> {
    return Promise.all(
      this.#serving().map(async (w) => ({ pid: w.pid, relativePid: w.slot, figures: await w.figures().catch(() => undefined) })),
    );
  }

  #serving(): WorkerProcess[] {
    const all = [...this.#slots.flatMap((s) => (s.current ? [s.current] : [])), ...this.#retiring];
    return [...new Set(all)].filter((w) => w.listening && !w.worker.isDead());
  }

  rows(): ProcessRow[] {
    return processRows(this.#slots, this.#retiring);
  }

  /** `restart`: see rolling-restart.ts for the order and the all-or-nothing-per-slot rule. */
  replaceAll(count: number, drainTimeoutMs: number): Promise<ReplaceOutcome> {
    return replaceAll(this.#restartable, count, drainTimeoutMs);
  }

  /** Drains every worker and resolves once all have exited. */
  async drainAll(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    for (const slot of this.#slots) this.#cancelRespawn(slot);
    await Promise.all(this.#slots.flatMap((s) => (s.current ? [this.#retire(s.current, timeoutMs)] : [])));
  }

  /** SIGKILLs every worker process still alive, tracked or not; returns their PIDs. */
  killAll(): number[] {
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    for (const w of alive) w.process.kill('SIGKILL');
    return alive.map((w) => w.process.pid ?? 0);
  }

  #slotFor(relativePid: number): Slot {
    let slot = this.#slots[relativePid - 1];
    if (!slot) {
      slot = emptySlot(relativePid);
      this.#slots[relativePid - 1] = slot;
    }
    return slot;
  }

  #fork(slot: Slot): WorkerProcess {
    // A restart still running when shutdown began must not start workers nobody will drain.
    if (this.#stopping) throw new WorkerUnavailableError(`worker ${slot.relativePid}`, 'shutting down');
    const process = new WorkerProcess(slot.relativePid, this.#options.initFor(slot.relativePid), (w, figures) => this.#options.lastFigures(w.pid, w.slot, figures));
    this.#options.output.attach(process.worker.process.stdout, process.worker.process.stderr);
    slot.current = process;
    process.worker.on('exit', (code, signal) => this.#onExit(slot, process, code, signal));
    process.ready.catch((err: Error) => {
      slot.failedStarts++;
      this.#options.logger.error({ event: 'worker_start_failed', relative_pid: slot.relativePid, pid: process.pid, message: err.message }, `worker ${slot.relativePid} failed to start: ${err.message}`);
      process.worker.process.kill('SIGKILL');
    });
    return process;
  }

  #markRetiring(worker: WorkerProcess): void {
    worker.retiring = true;
    this.#retiring.add(worker);
  }

  #retire(worker: WorkerProcess, timeoutMs: number): Promise<void> {
    this.#markRetiring(worker);
    return new Promise((resolve) => {
      if (worker.worker.isDead()) return resolve();
      worker.worker.once('exit', () => resolve());
      worker.drainingSince ??= Date.now();
      worker.send({ type: 'drain', timeoutMs });
      // A worker that has not exited shortly after its deadline (a hung event loop, or one that
      // never got the message) is killed: the drain deadline is a deadline.
      const kill = setTimeout(() => {
        this.#options.logger.warn(
          { event: 'worker_killed', relative_pid: worker.slot, pid: worker.pid, timeout_ms: timeoutMs, grace_ms: WORKER_KILL_GRACE_MS },
          `worker ${worker.slot} (pid ${worker.pid}) still running ${WORKER_KILL_GRACE_MS} ms after its ${timeoutMs} ms drain deadline: killed`,
        );
        worker.worker.process.kill('SIGKILL');
      }, timeoutMs + WORKER_KILL_GRACE_MS);
      worker.worker.once('exit', () => clearTimeout(kill));
    });
  }

  #onExit(slot: Slot, worker: WorkerProcess, code: number | null, signal: string | null): void {
    const { logger } = this.#options;
    worker.abandon(signal ? `worker exited on ${signal}` : `worker exited with code ${code}`);
    this.#retiring.delete(worker);
    if (worker.retiring || this.#stopping) {
      logger.info({ event: 'worker_exit', relative_pid: slot.relativePid, pid: worker.pid, code, signal }, `worker ${slot.relativePid} (pid ${worker.pid}) stopped`);
      return;
    }
    if (slot.current !== worker) return;
    slot.current = undefined;
    const ranFor = Date.now() - worker.startedAt;
    slot.consecutiveCrashes = crashStreakAfter(slot.consecutiveCrashes, ranFor);
    const delay = respawnDelayMs(slot.consecutiveCrashes);
    logger.error(
      { event: 'worker_exit', relative_pid: slot.relativePid, pid: worker.pid, code, signal, ran_ms: ranFor, respawn_delay_ms: delay, crashes_in_a_row: slot.consecutiveCrashes },
      `worker ${slot.relativePid} (pid ${worker.pid}) died (${signal ?? `code ${code}`}); respawning in ${delay} ms`,
    );
    this.#scheduleRespawn(slot, delay);
  }

  #scheduleRespawn(slot: Slot, delay: number): void {
    const { logger } = this.#options;
    slot.respawnAt = Date.now() + delay;
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined;
      slot.respawnAt = undefined;
      slot.respawns++;
      const next = this.#fork(slot);
      logger.info({ event: 'worker_respawn', relative_pid: slot.relativePid, pid: next.pid, respawns: slot.respawns }, `worker ${slot.relativePid} respawned as pid ${next.pid}`);
    }, delay);
  }

  #cancelRespawn(slot: Slot): void {
    if (slot.respawnTimer) clearTimeout(slot.respawnTimer);
    slot.respawnTimer = undefined;
    slot.respawnAt = undefined;
  }
}
