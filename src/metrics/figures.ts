// What a worker reports when the master collects metrics, and the per-process figures both
// kinds of process measure the same way.
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import type { RecordFigures } from './recorder.ts';

/** How finely the event-loop delay is sampled (Node's own default is 10 ms). */
const EVENT_LOOP_RESOLUTION_MS = 20;

export interface ProcessFigures {
  rssBytes: number;
  heapUsedBytes: number;
  /** Over the time since the previous collection. */
  eventLoopDelayP99Seconds: number;
  eventLoopDelayMaxSeconds: number;
}

/** One upstream origin as one worker sees it. */
export interface UpstreamFigures {
  server: string;
  /** False while this worker keeps the origin out of rotation after a failure. */
  up: boolean;
  activeConnections: number;
  idleConnections: number;
}

export interface WorkerFigures {
  generationId: number;
  /** Sites (and the unrouted pseudo-site), routes and servers. */
  records: RecordFigures[];
  upstreams: UpstreamFigures[];
  clientConnections: number;
  /**
   * Further per-worker counters by full metric name (declared in families.ts): summed over
   * workers and carried forward when a worker dies, like the traffic counters.
   */
  counters: Record<string, number>;
  process: ProcessFigures;
}

/** Samples this process's event-loop delay between collections. */
export class ProcessSampler {
  readonly #delay: ELDHistogram;

  constructor() {
    this.#delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    this.#delay.enable();
  }

  /** The figures now; the delay window restarts, so each collection sees its own interval. */
  take(): ProcessFigures {
    const memory = process.memoryUsage();
    const nsToSeconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
    const figures: ProcessFigures = {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopDelayP99Seconds: this.#delay.count > 0 ? nsToSeconds(this.#delay.percentile(99)) : 0,
      eventLoopDelayMaxSeconds: this.#delay.count > 0 ? nsToSeconds(this.#delay.max) : 0,
    };
    this.#delay.reset();
    return figures;
  }
}
