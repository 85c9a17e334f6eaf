// What a worker is started with: how many of them the config asks for, and the init message
// each one gets, from the static settings and generation the master runs at that moment.
import type { Config } from '../config/schema.ts';
import type { Generation } from '../config/generation.ts';
import type { ServerState } from '../config/upstream-groups.ts';
import { autoWorkerCount } from './cpu-count.ts';
import type { WorkerInit } from './messages.ts';

export function workerCount(config: Config): number {
  return config.workers === 'auto' ? autoWorkerCount() : config.workers;
}

export function workerInit(relativePid: number, config: Config, generation: Generation, servers: ServerState[]): WorkerInit {
  return {
    relativePid,
    listeners: config.listeners,
    logging: config.logging,
    clientTimeouts: {
      client_header_timeout_secs: config.client_header_timeout_secs,
      client_body_timeout_secs: config.client_body_timeout_secs,
      keepalive_timeout_secs: config.keepalive_timeout_secs,
    },
    generation,
    servers,
    shutdownTimeoutMs: config.shutdown_timeout_secs * 1000,
    requestIdHeader: config.request_id_header,
  };
}
