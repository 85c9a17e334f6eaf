// The master's view of its workers: one numbered slot per worker (relative PIDs 1..N), forking,
// readiness, respawn with backoff, config broadcast with acknowledgements, routed commands,
// rolling replacement and drain. It knows nothing about config files or admin sockets.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { WorkerApplyError, WorkerStartError, WorkerUnavailableError } from '../errors.ts';
import type { WireGeneration } from '../config/generation.ts';
import type { ProcessRow } from '../admin/backend.ts';
import type { Logger } from '../log.ts';
import type { WorkerFigures } from '../metrics/figures.ts';
import { VERSION } from '../version.ts';
import type { MasterToWorker, WorkerInit, WorkerToMaster } from './messages.ts';
import { WORKER_KILL_GRACE_MS } from './deadlines.ts';
import { workerExecArgv } from './worker-flags.ts';
import type { WorkerOutputRelay } from './worker-output.ts';

/** A worker must apply a new generation within this time, or it is replaced. */
export const APPLY_TIMEOUT_MS = 10_000;
/** A new worker must be listening within this time, or it is killed and respawned. */
export const WORKER_START_TIMEOUT_MS = 15_000;
/** A routed admin command must be answered within this time. */
export const WORKER_COMMAND_TIMEOUT_MS = 5_000;
/** A worker must send its metrics figures within this time, or the master uses its last ones. */
export const FIGURES_TIMEOUT_MS = 1_000;
/** First respawn delay after a crash; doubles with each quick crash in a row. */
export const RESPAWN_MIN_DELAY_MS = 100;
/** Respawn delay never exceeds this, however long a crash loop lasts. */
export const RESPAWN_MAX_DELAY_MS = 10_000;
/** A worker that ran this long before dying is not part of a crash loop: backoff restarts. */
export const RESPAWN_STABLE_UPTIME_MS = 10_000;

const workerEntry = fileURLToPath(new URL(`./worker-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

class WorkerProcess {
  readonly worker: Worker;
  readonly slot: number;
  readonly startedAt = Date.now();
  reloads = 0;
  /** The generation it serves: the one it started with, then each one it acknowledged. */
  generationId: number;
  listening = false;
  retiring = false;
  /** When it was told to drain (epoch ms), for `show proc`'s old workers. */
  drainingSince: number | undefined;
  readonly ready: Promise<string[]>;
  readonly #applies = new Map<number, Pending<void>>();
  readonly #commands = new Map<number, Pending<string>>();
  readonly #figures = new Map<number, Pending<WorkerFigures>>();
  readonly #onLastFigures: (worker: WorkerProcess, figures: WorkerFigures) => void;
  #nextRequestId = 1;
  #readyPending: Pending<string[]> | undefined;

  constructor(slot: number, init: WorkerInit, onLastFigures: (worker: WorkerProcess, figures: WorkerFigures) => void) {
    this.slot = slot;
    this.#onLastFigures = onLastFigures;
    this.generationId = init.generation.id;
    this.worker = cluster.fork({ REVERSE_PROXY_RELATIVE_PID: String(slot) });
    this.ready = new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening within ${WORKER_START_TIMEOUT_MS} ms`)), WORKER_START_TIMEOUT_MS);
      this.#readyPending = { resolve, reject, timer };
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (message: WorkerToMaster) => this.#onMessage(message));
    this.send({ type: 'init', init });
  }

  get pid(): number {
    return this.worker.process.pid ?? 0;
  }

  send(message: MasterToWorker): void {
    if (this.worker.isConnected()) this.worker.send(message);
  }

  apply(generation: WireGeneration): Promise<void> {
    return this.#request(this.#applies, generation.id, APPLY_TIMEOUT_MS, () => this.send({ type: 'apply', generation }));
  }

  command(line: string): Promise<string> {
    const requestId = this.#nextRequestId++;
    return this.#request(this.#commands, requestId, WORKER_COMMAND_TIMEOUT_MS, () => this.send({ type: 'command', requestId, line }));
  }

  figures(): Promise<WorkerFigures> {
    const requestId = this.#nextRequestId++;
    return this.#request(this.#figures, requestId, FIGURES_TIMEOUT_MS, () => this.send({ type: 'collect_figures', requestId }));
  }

  /** Fails everything still waiting on this worker; called when it exits. */
  abandon(reason: string): void {
    const err = new Error(reason);
    for (const pending of [this.#readyPending, ...this.#applies.values(), ...this.#commands.values(), ...this.#figures.values()]) {
      if (!pending) continue;
      clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.#applies.clear();
    this.#commands.clear();
    this.#figures.clear();
    this.#readyPending = undefined;
  }

  #request<T>(table: Map<number, Pending<T>>, id: number, timeoutMs: number, send: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        table.delete(id);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      table.set(id, { resolve, reject, timer });
      send();
    });
  }

  #settle<T>(table: Map<number, Pending<T>>, id: number, outcome: { value: T } | { error: string }): void {
    const pending = table.get(id);
    if (!pending) return;
    table.delete(id);
    clearTimeout(pending.timer);
    if ('value' in outcome) pending.resolve(outcome.value);
    else pending.reject(new Error(outcome.error));
  }

  #onMessage(message: WorkerToMaster): void {
    switch (message.type) {
      case 'ready':
        this.listening = true;
        if (this.#readyPending) {
          clearTimeout(this.#readyPending.timer);
          this.#readyPending.resolve(message.listeners);
          this.#readyPending = undefined;
        }
        return;
      case 'init_failed':
        if (this.#readyPending) {
          clearTimeout(this.#readyPending.timer);
          this.#readyPending.reject(new Error(message.message));
          this.#readyPending = undefined;
        }
        return;
      case 'applied':
        this.reloads++;
        this.generationId = message.generationId;
        this.#settle(this.#applies, message.generationId, { value: undefined });
        return;
      case 'apply_failed':
        this.#settle(this.#applies, message.generationId, { error: message.message });
        return;
      case 'command_reply':
        this.#settle(this.#commands, message.requestId, { value: message.text });
        return;
      case 'figures':
        this.#settle(this.#figures, message.requestId, { value: message.figures });
        return;
      case 'last_figures':
        this.#onLastFigures(this, message.figures);
        return;
    }
  }
}

interface Slot {
  relativePid: number;
  current: WorkerProcess | undefined;
  respawns: number;
  /** Workers forked for this slot that never got listening (crashed at start, timed out). */
  failedStarts: number;
  consecutiveCrashes: number;
  respawnTimer: NodeJS.Timeout | undefined;
  respawnAt: number | undefined;
}

/** How a rolling replacement ended. */
export interface ReplaceOutcome {
  /** Slots, from 1 up, whose worker now runs what `initFor` gave. */
  replaced: number;
  /** Why the next slot kept its worker and the replacement stopped there; absent on success. */
  failure?: WorkerStartError;
}

export interface WorkerPoolOptions {
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
  #stopping = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    cluster.setupPrimary({ exec: workerEntry, args: [], execArgv: workerExecArgv(process.execArgv, process.env['NODE_OPTIONS']), silent: true });
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
    const current = this.#slots.map((slot) => {
      const w = slot.current;
      const row: ProcessRow = {
        pid: w?.pid ?? 0,
        type: 'worker',
        relativePid: slot.relativePid,
        reloads: w?.reloads ?? 0,
        startedAt: w?.startedAt ?? Date.now(),
        version: VERSION,
        respawns: slot.respawns,
      };
      if (slot.respawnAt !== undefined) row.respawningInMs = Math.max(0, slot.respawnAt - Date.now());
      if (slot.failedStarts > 0) row.failedStarts = slot.failedStarts;
      return row;
    });
    return [...current, ...this.#oldRows()];
  }

  /** Workers replaced by a restart that are still running out their drain. */
  #oldRows(): ProcessRow[] {
    return [...this.#retiring]
      .filter((w) => !w.worker.isDead() && !this.#slots.some((s) => s.current === w))
      .map((w) => {
        const row: ProcessRow = { pid: w.pid, type: 'worker', relativePid: w.slot, reloads: w.reloads, startedAt: w.startedAt, version: VERSION, respawns: 0, old: true, generation: w.generationId };
        if (w.drainingSince !== undefined) row.drainingForMs = Date.now() - w.drainingSince;
        return row;
      });
  }

  /**
   * Replaces every worker one at a time with one started from `initFor`, then trims or grows
   * the pool to `count`. Each old worker is drained only after its replacement listens, so the
   * shared listeners never lack a worker and no request fails. All or nothing per slot: when a
   * replacement cannot start, the old worker keeps its slot (tracked, routed to, reloaded) and
   * the replacement stops there. If no slot was replaced the pool is left exactly as it was;
   * otherwise it is still trimmed to `count`, so it never holds more workers than asked for.
   */
  async replaceAll(count: number, drainTimeoutMs: number): Promise<ReplaceOutcome> {
    const slotsBefore = this.#slots.length;
    let replaced = 0;
    let failure: WorkerStartError | undefined;
    for (let relativePid = 1; relativePid <= count; relativePid++) {
      const slot = this.#slotFor(relativePid);
      const old = slot.current;
      if (old) this.#markRetiring(old);
      this.#cancelRespawn(slot);
      const next = this.#fork(slot);
      try {
        await next.ready;
      } catch (err) {
        failure = new WorkerStartError(relativePid, (err as Error).message);
        this.#giveSlotBack(slot, old, next, relativePid <= slotsBefore);
        break;
      }
      if (old) await this.#retire(old, drainTimeoutMs);
      replaced++;
    }
    if (failure && replaced === 0) return { replaced, failure };
    const extra = this.#slots.splice(count);
    for (const slot of extra) this.#cancelRespawn(slot);
    await Promise.all(extra.flatMap((slot) => (slot.current ? [this.#retire(slot.current, drainTimeoutMs)] : [])));
    return failure ? { replaced, failure } : { replaced };
  }

  /**
   * Undoes one slot's replacement: the worker that failed to start is left to exit as a
   * retiree (never respawned), and the old worker, if it is still alive, is the slot's again.
   * A slot that had no live worker goes back to respawning; one that did not exist is removed.
   */
  #giveSlotBack(slot: Slot, old: WorkerProcess | undefined, failed: WorkerProcess, existed: boolean): void {
    this.#markRetiring(failed);
    if (old && !old.worker.isDead()) {
      old.retiring = false;
      this.#retiring.delete(old);
      slot.current = old;
      return;
    }
    slot.current = undefined;
    if (existed) this.#scheduleRespawn(slot, RESPAWN_MIN_DELAY_MS);
    else this.#slots.splice(slot.relativePid - 1);
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
      slot = { relativePid, current: undefined, respawns: 0, failedStarts: 0, consecutiveCrashes: 0, respawnTimer: undefined, respawnAt: undefined };
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
    slot.consecutiveCrashes = ranFor >= RESPAWN_STABLE_UPTIME_MS ? 0 : slot.consecutiveCrashes + 1;
    const delay = Math.min(RESPAWN_MAX_DELAY_MS, slot.consecutiveCrashes === 0 ? 0 : RESPAWN_MIN_DELAY_MS * 2 ** (slot.consecutiveCrashes - 1));
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
