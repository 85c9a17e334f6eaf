// The master's metrics: collects every worker's figures over IPC, sums them, and answers the
// scrape and `show stat` from the same sum. Concurrent callers share one collection, and a
// worker that does not answer in time counts with its last figures, so neither a scrape nor the
// admin socket waits on a busy worker for long, and nothing here touches traffic.
import { FiguresAggregator, type AggregatedView } from './aggregator.ts';
import type { WorkerFigures } from './figures.ts';
import type { SiteSeries } from './series.ts';

export interface FigureSource {
  collectFigures(): Promise<{ pid: number; relativePid: number; figures: WorkerFigures | undefined }[]>;
  alivePids(): Set<number>;
}

export interface Collection {
  view: AggregatedView;
  /** Workers whose figures are last-known rather than fresh. */
  stale: number;
}

export class MetricsHub {
  readonly #source: FigureSource;
  readonly #current: () => { generationId: number; series: readonly SiteSeries[] };
  readonly #aggregator = new FiguresAggregator();
  #collecting: Promise<Collection> | undefined;

  constructor(source: FigureSource, current: () => { generationId: number; series: readonly SiteSeries[] }) {
    this.#source = source;
    this.#current = current;
  }

  collect(): Promise<Collection> {
    this.#collecting ??= this.#collectNow().finally(() => {
      this.#collecting = undefined;
    });
    return this.#collecting;
  }

  /** Call when the workers have been sent a new generation. */
  reloaded(): void {
    this.#aggregator.reloaded(this.#current().series);
  }

  async #collectNow(): Promise<Collection> {
    const answers = await this.#source.collectFigures();
    let stale = 0;
    for (const answer of answers) {
      if (answer.figures) this.#aggregator.record(answer.pid, answer.relativePid, answer.figures);
      else stale++;
    }
    const { generationId, series } = this.#current();
    const alive = this.#source.alivePids();
    this.#aggregator.forgetExcept(alive, generationId);
    return { view: this.#aggregator.view(series, alive), stale };
  }
}
