// A site's route records, made when a route first takes a request rather than when the
// generation is compiled. A config of 1,000 sites × 20 routes has 20,000 route series, and most
// of them are idle: made up front, their records were about half of a worker's heap (two
// Float64Arrays, their buffers and labels each, ≈1.4 KB a route), for series that an idle
// record never exports anyway (its counters are all 0, and the figures leave it out).
import type { RecordBook, TrafficRecord } from './recorder.ts';

export class RouteRecords {
  readonly #book: RecordBook;
  readonly #site: string;
  /** The site's route names (CompiledRoute.name), in the order of its `routes`. */
  readonly #names: readonly string[];
  readonly #made = new Map<string, TrafficRecord>();

  /**
   * Takes over, from `book`, the record of every route the previous generation had counted
   * under the same labels, so an edited site's routes count on.
   */
  constructor(book: RecordBook, site: string, names: readonly string[]) {
    this.#book = book;
    this.#site = site;
    this.#names = names;
    for (const route of names) {
      const held = book.held({ site, route });
      if (held !== undefined) this.#made.set(route, held);
    }
  }

  /** The record of the route named so, made at its first request; undefined for a name the site has no route of. */
  get(route: string): TrafficRecord | undefined {
    const made = this.#made.get(route);
    if (made !== undefined) return made;
    if (!this.#names.includes(route)) return undefined;
    const record = this.#book.takeLate({ site: this.#site, route });
    this.#made.set(route, record);
    return record;
  }

  /** The records made so far: what a reload that keeps the site keeps. */
  made(): IterableIterator<TrafficRecord> {
    return this.#made.values();
  }
}
