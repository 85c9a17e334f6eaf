// The master's sum of every worker's figures. Each process's latest figures are kept by pid;
// when a process is gone its counters move into a carried total, so a sum never goes backwards
// when a worker dies and its slot starts again from zero. Gauges (in flight, connections) come
// from live processes only. Only the series the current config names are summed.
import { RECORD_LENGTH, SLOT } from './layout.ts';
import { recordKey, type RecordLabels } from './recorder.ts';
import type { ProcessFigures, WorkerFigures } from './figures.ts';
import { UNROUTED_SITE, type SiteSeries } from './series.ts';

export interface AggregatedRecord {
  labels: RecordLabels;
  /** Every slot of the layout: counters summed over all processes ever, gauges over live ones. */
  total: Float64Array;
  /** Counters since the last reload (or since start). */
  sinceReload: Float64Array;
}

interface AggregatedUpstream {
  server: string;
  /** True when every live worker has the server in rotation. */
  up: boolean;
  activeConnections: number;
  idleConnections: number;
}

export interface AggregatedView {
  /** Per site: the site's record, its routes', then its servers'; the unrouted record last. */
  records: AggregatedRecord[];
  upstreams: AggregatedUpstream[];
  clientConnections: number;
  counters: Map<string, number>;
  /** One per relative PID: the processes that hold one, never an old worker draining beside its replacement. */
  processes: { relativePid: number; figures: ProcessFigures }[];
}

interface Carried {
  total: Float64Array;
  sinceReload: Float64Array;
}

interface Latest {
  relativePid: number;
  figures: WorkerFigures;
}

/** The site series plus the unrouted pseudo-site, in display order. */
function wantedLabels(series: readonly SiteSeries[]): RecordLabels[] {
  return [...series.flatMap((s) => [s.site, ...s.routes, ...s.servers]), { site: UNROUTED_SITE }];
}

/** What a view needs from a series list, worked out once per list (the hub keeps one per generation). */
interface Plan {
  wanted: { labels: RecordLabels; key: string }[];
  servers: Set<string>;
}

const plans = new WeakMap<readonly SiteSeries[], Plan>();

function planOf(series: readonly SiteSeries[]): Plan {
  let plan = plans.get(series);
  if (plan === undefined) {
    plan = {
      wanted: wantedLabels(series).map((labels) => ({ labels, key: recordKey(labels) })),
      servers: new Set(series.flatMap((s) => s.servers.map((l) => l.server as string))),
    };
    plans.set(series, plan);
  }
  return plan;
}

export class FiguresAggregator {
  readonly #latest = new Map<number, Latest>();
  readonly #carried = new Map<string, Carried>();
  readonly #carriedCounters = new Map<string, number>();

  record(pid: number, relativePid: number, figures: WorkerFigures): void {
    this.#latest.set(pid, { relativePid, figures });
  }

  /** Whether figures of `pid` are held and not yet carried. */
  has(pid: number): boolean {
    return this.#latest.has(pid);
  }

  /**
   * Moves the figures of every process not in `alive` into the carried totals. Its counts since
   * the last reload carry only if it had applied the current generation.
   */
  forgetExcept(alive: ReadonlySet<number>, generationId: number): void {
    for (const [pid, { figures }] of this.#latest) {
      if (alive.has(pid)) continue;
      this.#latest.delete(pid);
      for (const record of figures.records) {
        const carried = this.#carriedFor(recordKey(record.labels));
        for (let i = 0; i < SLOT.counterEnd; i++) carried.total[i]! += record.total[i] ?? 0;
        if (figures.generationId === generationId) for (let i = 0; i < SLOT.counterEnd; i++) carried.sinceReload[i]! += record.sinceReload[i] ?? 0;
      }
      for (const [name, value] of Object.entries(figures.counters)) this.#carriedCounters.set(name, (this.#carriedCounters.get(name) ?? 0) + value);
    }
  }

  /** After a reload: carried counts start over for `show stat`, and removed series are let go. */
  reloaded(series: () => readonly SiteSeries[]): void {
    // Nothing carried (no worker was replaced): nothing to start over, and no series to work out on the reload's path.
    if (this.#carried.size === 0) return;
    const wanted = new Set(planOf(series()).wanted.map((w) => w.key));
    for (const [key, carried] of this.#carried) {
      if (!wanted.has(key)) this.#carried.delete(key);
      else carried.sinceReload.fill(0);
    }
  }

  /**
   * `alive`: the processes whose gauges count (old workers draining among them); `slotHolders`:
   * those of them that get a per-process row, by default all.
   */
  view(series: readonly SiteSeries[], alive: ReadonlySet<number>, slotHolders: ReadonlySet<number> = alive): AggregatedView {
    const { wanted, servers } = planOf(series);
    const byKey = new Map<string, AggregatedRecord>();
    for (const { labels, key } of wanted) {
      const record: AggregatedRecord = { labels, total: new Float64Array(RECORD_LENGTH), sinceReload: new Float64Array(SLOT.counterEnd) };
      const carried = this.#carried.get(key);
      if (carried) {
        record.total.set(carried.total);
        record.sinceReload.set(carried.sinceReload);
      }
      byKey.set(key, record);
    }
    const upstreams = new Map<string, AggregatedUpstream>();
    const counters = new Map(this.#carriedCounters);
    const processes: AggregatedView['processes'] = [];
    let clientConnections = 0;
    for (const [pid, { relativePid, figures }] of this.#latest) {
      const live = alive.has(pid);
      for (const record of figures.records) {
        const sum = byKey.get(recordKey(record.labels));
        if (!sum) continue;
        const end = live ? RECORD_LENGTH : SLOT.counterEnd;
        for (let i = 0; i < end; i++) sum.total[i]! += record.total[i] ?? 0;
        for (let i = 0; i < SLOT.counterEnd; i++) sum.sinceReload[i]! += record.sinceReload[i] ?? 0;
      }
      for (const [name, value] of Object.entries(figures.counters)) counters.set(name, (counters.get(name) ?? 0) + value);
      if (!live) continue;
      clientConnections += figures.clientConnections;
      if (slotHolders.has(pid)) processes.push({ relativePid, figures: figures.process });
      for (const u of figures.upstreams) {
        if (!servers.has(u.server)) continue;
        const sum = upstreams.get(u.server) ?? { server: u.server, up: true, activeConnections: 0, idleConnections: 0 };
        sum.up &&= u.up;
        sum.activeConnections += u.activeConnections;
        sum.idleConnections += u.idleConnections;
        upstreams.set(u.server, sum);
      }
    }
    processes.sort((a, b) => a.relativePid - b.relativePid);
    return { records: [...byKey.values()], upstreams: [...upstreams.values()], clientConnections, counters, processes };
  }

  #carriedFor(key: string): Carried {
    let carried = this.#carried.get(key);
    if (!carried) {
      carried = { total: new Float64Array(SLOT.counterEnd), sinceReload: new Float64Array(SLOT.counterEnd) };
      this.#carried.set(key, carried);
    }
    return carried;
  }
}
