// The master's metrics: collects every worker's figures over IPC, sums them, and answers the
// scrape and `show stat` from the same sum. Concurrent callers share one collection, and a
// worker that does not answer in time counts with its last figures, so neither a scrape nor the
// admin socket waits on a busy worker for long, and nothing here touches traffic.
import { FiguresAggregator, type AggregatedView } from './aggregator.ts';
import type { WorkerFigures } from './figures.ts';
import { seriesOf, type SeriesSource, type SiteSeries } from './series.ts';

interface FigureSource {
  collectFigures(): Promise<{ pid: number; relativePid: number; figures: WorkerFigures | undefined }[]>;
  alivePids(): Set<number>;
  /** The live processes that hold a relative PID: a draining old worker shares its slot's, so it is not one. */
  slotPids(): Set<number>;
}

interface Collection {
  view: AggregatedView;
  /** Workers whose figures are last-known rather than fresh. */
  stale: number;
}

export class MetricsHub {
  readonly #source: FigureSource;
  readonly #generation: () => SeriesSource & { id: number };
  readonly #aggregator = new FiguresAggregator();
  #collecting: Promise<Collection> | undefined;
  /** Workers whose last figures are in: an answer of theirs still on its way to a collection is older. */
  readonly #final = new Set<number>();
  /** The series of the generation last asked about: worked out once per generation, not per scrape. */
  #series: { generationId: number; series: readonly SiteSeries[] } | undefined;

  /** `generation`: the generation the workers were last sent. */
  constructor(source: FigureSource, generation: () => SeriesSource & { id: number }) {
    this.#source = source;
    this.#generation = generation;
  }

  #current(): { generationId: number; series: readonly SiteSeries[] } {
    const generation = this.#generation();
    if (this.#series?.generationId !== generation.id) this.#series = { generationId: generation.id, series: seriesOf(generation) };
    return this.#series;
  }

  collect(): Promise<Collection> {
    this.#collecting ??= this.#collectNow().finally(() => {
      this.#collecting = undefined;
    });
    return this.#collecting;
  }

  /**
   * A drained worker's figures, sent as it exits: they hold the requests its drain cut, which
   * no collection saw. Taken only while the aggregator has not carried that worker's totals yet
   * (it is alive, or its earlier figures still wait to be carried), so nothing counts twice; and
   * an answer of its to a collection still under way, older than these, no longer replaces them.
   */
  lastFigures(pid: number, relativePid: number, figures: WorkerFigures): void {
    if (!this.#aggregator.has(pid) && !this.#source.alivePids().has(pid)) return;
    this.#aggregator.record(pid, relativePid, figures);
    this.#final.add(pid);
  }

  /** Call when the workers have been sent a new generation. */
  reloaded(): void {
    this.#aggregator.reloaded(() => this.#current().series);
  }

  async #collectNow(): Promise<Collection> {
    const answers = await this.#source.collectFigures();
    let stale = 0;
    for (const answer of answers) {
      if (!answer.figures) stale++;
      else if (!this.#final.has(answer.pid)) this.#aggregator.record(answer.pid, answer.relativePid, answer.figures);
    }
    const { generationId, series } = this.#current();
    const alive = this.#source.alivePids();
    this.#aggregator.forgetExcept(alive, generationId);
    // Carried now, so a pid the system gives again later is a new process.
    for (const pid of this.#final) if (!alive.has(pid)) this.#final.delete(pid);
    return { view: this.#aggregator.view(series, alive, this.#source.slotPids()), stale };
  }
}
