// A worker's metrics: the records of the running generation's series, the process sampler, and
// the figures the master collects. The request path reaches the records through the compiled
// generation (CompiledSite.metrics); this object only makes and reports them.
import type { Generation } from '../config/generation.ts';
import { ProcessSampler, type UpstreamFigures, type WorkerFigures } from './figures.ts';
import { RecordBook, hasCounted, recordFigures, type RecordLabels, type TrafficRecord } from './recorder.ts';
import { RouteRecords } from './route-records.ts';
import { UNROUTED_SITE, groupsByName, siteSeriesOf } from './series.ts';

export interface SiteRecords {
  site: TrafficRecord;
  /** By route name (CompiledRoute.name), for the request path; each made at its route's first request. */
  routeByName: RouteRecords;
  /** Every server the site or its routes send to (found by origin: see meterUpstream). */
  servers: TrafficRecord[];
}

export interface GenerationRecords {
  /** In the order of the generation's sites. */
  sites: SiteRecords[];
  /** Requests no site took. */
  unrouted: TrafficRecord;
}

/** What only the running server knows when the master collects. */
interface LiveFigures {
  clientConnections: number;
  upstreams: UpstreamFigures[];
  counters?: Record<string, number>;
}

export class WorkerMetrics {
  readonly #book = new RecordBook();
  readonly #sampler = new ProcessSampler();
  #generationId = 0;
  /**
   * The last generation's site records by the site's content key (Generation.siteKeys), and
   * the servers of its `[[upstreams]]` groups: a site's series depend on those two only, so a
   * site with the same key under the same groups keeps its records as they are.
   */
  #kept: { groups: string; sites: Map<string, SiteRecords> } = { groups: '', sites: new Map() };

  /** The records for `generation`'s series, keeping those of series the last one had too. */
  recordsFor(generation: Generation): GenerationRecords {
    const book = this.#book;
    const take = (labels: RecordLabels) => book.take(labels);
    const groups = groupsByName(generation.upstreams);
    const groupServers = JSON.stringify(generation.upstreams.map((g) => [g.name, g.servers.map((s) => s.url)]));
    const kept = this.#kept.groups === groupServers ? this.#kept.sites : new Map<string, SiteRecords>();
    const next = new Map<string, SiteRecords>();
    const sites = generation.sites.map((config, i): SiteRecords => {
      const key = generation.siteKeys?.[i];
      const same = key === undefined ? undefined : kept.get(key);
      let records: SiteRecords;
      if (same !== undefined) {
        book.keep(same.site);
        for (const r of same.routeByName.made()) book.keep(r);
        same.servers.forEach((r) => book.keep(r));
        records = same;
      } else {
        const s = siteSeriesOf(config, groups);
        const site = take(s.site);
        const routes = new RouteRecords(book, site.labels.site, s.routes.map((r) => r.route as string));
        records = { site, routeByName: routes, servers: s.servers.map(take) };
      }
      if (key !== undefined) next.set(key, records);
      return records;
    });
    const unrouted = book.take({ site: UNROUTED_SITE });
    book.commit();
    this.#kept = { groups: groupServers, sites: next };
    this.#generationId = generation.id;
    return { sites, unrouted };
  }

  figures(live: LiveFigures): WorkerFigures {
    return {
      generationId: this.#generationId,
      // A record that never counted anything adds nothing to the sum: with many sites, most
      // records are idle and the collection message stays small.
      records: [...this.#book.records()].filter(hasCounted).map(recordFigures),
      upstreams: live.upstreams,
      clientConnections: live.clientConnections,
      counters: live.counters ?? {},
      process: this.#sampler.take(),
    };
  }
}
