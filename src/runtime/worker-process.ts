// One forked worker as the master sees it: its init, its readiness, and the requests it answers
// over the IPC channel (apply a generation, run a routed command, send its metrics figures).
// Which slot it fills and what happens when it exits is the pool's business (worker-pool.ts).
import cluster, { type Worker } from 'node:cluster';
import { WORKER_REPLY_TIMEOUT_MS } from '../admin/limits.ts';
import type { WireGeneration } from '../config/generation.ts';
import type { WorkerFigures } from '../metrics/figures.ts';
import type { MasterToWorker, WorkerInit, WorkerToMaster } from './messages.ts';
import { PendingReplies } from './pending-replies.ts';

/** A worker must apply a new generation within this time, or it is replaced. */
export const APPLY_TIMEOUT_MS = 10_000;
/** A new worker must be listening within this time, or it is killed and respawned. */
const WORKER_START_TIMEOUT_MS = 15_000;
/** A worker must send its metrics figures within this time, or the master uses its last ones. */
export const FIGURES_TIMEOUT_MS = 1_000;

/** A worker starts once, so its start needs no request id. */
const START_ID = 0;

export class WorkerProcess {
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
  /** Resolves with the listener addresses once it listens; rejects if it cannot, or not in time. */
  readonly ready: Promise<string[]>;
  /** The one start, settled by `ready` or `init_failed`. */
  readonly #start = new PendingReplies<string[]>();
  /** Keyed by generation id: `applied` and `apply_failed` name the generation, not a request. */
  readonly #applies = new PendingReplies<void>();
  readonly #commands = new PendingReplies<string>();
  readonly #figures = new PendingReplies<WorkerFigures>();
  readonly #onLastFigures: (worker: WorkerProcess, figures: WorkerFigures) => void;
  #nextRequestId = 1;

  constructor(slot: number, init: WorkerInit, onLastFigures: (worker: WorkerProcess, figures: WorkerFigures) => void) {
    this.slot = slot;
    this.#onLastFigures = onLastFigures;
    this.generationId = init.generation.id;
    this.worker = cluster.fork({ REVERSE_PROXY_RELATIVE_PID: String(slot) });
    this.worker.on('message', (message: WorkerToMaster) => this.#onMessage(message));
    this.ready = this.#start.request(START_ID, WORKER_START_TIMEOUT_MS, () => this.send({ type: 'init', init }), `not listening within ${WORKER_START_TIMEOUT_MS} ms`);
    this.ready.catch(() => undefined);
  }

  get pid(): number {
    return this.worker.process.pid ?? 0;
  }

  send(message: MasterToWorker): void {
    if (this.worker.isConnected()) this.worker.send(message);
  }

  apply(generation: WireGeneration): Promise<void> {
    return this.#applies.request(generation.id, APPLY_TIMEOUT_MS, () => this.send({ type: 'apply', generation }));
  }

  /**
   * A routed admin command. Its limit is the admin socket's: that timer is set first and with the
   * same delay fires first, so the client gets its documented reply; this one frees the entry.
   */
  command(line: string): Promise<string> {
    const requestId = this.#nextRequestId++;
    return this.#commands.request(requestId, WORKER_REPLY_TIMEOUT_MS, () => this.send({ type: 'command', requestId, line }));
  }

  figures(): Promise<WorkerFigures> {
    const requestId = this.#nextRequestId++;
    return this.#figures.request(requestId, FIGURES_TIMEOUT_MS, () => this.send({ type: 'collect_figures', requestId }));
  }

  /** Fails everything still waiting on this worker; called when it exits. */
  abandon(reason: string): void {
    const err = new Error(reason);
    this.#start.rejectAll(err);
    this.#applies.rejectAll(err);
    this.#commands.rejectAll(err);
    this.#figures.rejectAll(err);
  }

  #onMessage(message: WorkerToMaster): void {
    switch (message.type) {
      case 'ready':
        this.listening = true;
        this.#start.settle(START_ID, { value: message.listeners });
        return;
      case 'init_failed':
        this.#start.settle(START_ID, { error: message.message });
        return;
      case 'applied':
        this.reloads++;
        this.generationId = message.generationId;
        this.#applies.settle(message.generationId, { value: undefined });
        return;
      case 'apply_failed':
        this.#applies.settle(message.generationId, { error: message.message });
        return;
      case 'command_reply':
        this.#commands.settle(message.requestId, { value: message.text });
        return;
      case 'figures':
        this.#figures.settle(message.requestId, { value: message.figures });
        return;
      case 'last_figures':
        this.#onLastFigures(this, message.figures);
        return;
    }
  }
}
