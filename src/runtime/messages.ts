// The messages master and workers exchange over the node:cluster IPC channel.
import type { Generation, WireGeneration } from '../config/generation.ts';
import type { ClientTimeoutConfig, ListenerConfig, LoggingConfig } from '../config/schema.ts';
import type { ServerState } from '../config/upstream-groups.ts';
import type { WorkerFigures } from '../metrics/figures.ts';

export interface WorkerInit {
  relativePid: number;
  listeners: ListenerConfig[];
  logging: LoggingConfig;
  clientTimeouts: ClientTimeoutConfig;
  generation: Generation;
  /** Servers the master's health checks or `set server` have out of rotation. */
  servers: ServerState[];
  /** How long the worker drains when it is signalled directly. */
  shutdownTimeoutMs: number;
  /** `request_id_header`; "" turns request IDs off. */
  requestIdHeader: string;
}

export type MasterToWorker =
  | { type: 'init'; init: WorkerInit }
  | { type: 'apply'; generation: WireGeneration }
  /** Every server not up and ready, after any change; the others are up and ready. */
  | { type: 'servers'; states: ServerState[] }
  | { type: 'command'; requestId: number; line: string }
  | { type: 'drain'; timeoutMs: number }
  | { type: 'collect_figures'; requestId: number };

export type WorkerToMaster =
  | { type: 'ready'; listeners: string[] }
  | { type: 'init_failed'; message: string }
  | { type: 'applied'; generationId: number }
  | { type: 'apply_failed'; generationId: number; message: string }
  | { type: 'command_reply'; requestId: number; text: string }
  | { type: 'figures'; requestId: number; figures: WorkerFigures }
  /** Sent once, after a drain and just before the worker exits: what it counted, the requests the drain cut included. */
  | { type: 'last_figures'; figures: WorkerFigures };

