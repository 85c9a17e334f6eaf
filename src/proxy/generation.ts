// A config generation and its compiled form: everything a request needs that can be worked out
// at reload time (host router, route tables, upstream groups and their pools, timeouts in ms,
// limiters, header rules) is computed here, once.
import type { Generation, WireGeneration } from '../config/generation.ts';
import type { SiteConfig } from '../config/schema.ts';
import { namedGroups } from '../config/upstream-groups.ts';
import { compileGroups, type CompiledGroup, type ServerStates } from './balance/upstream-group.ts';
import type { UpstreamPool, UpstreamPools } from './pools.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { GenerationRecords, SiteRecords } from '../metrics/worker-metrics.ts';
import { HostRouter, type Routable } from './router.ts';
import { routeHandling, siteHandling, type Handling, type HandlingContext } from './routes/handling.ts';
import { RouteShapes } from './routes/route-shapes.ts';
import { RouteTable, type CompiledRoute } from './routes/route-table.ts';

export type { Generation } from '../config/generation.ts';

/** What a compiled site took from its generation; a later generation that keeps the site takes it over. */
interface SiteUses {
  readonly groups: ReadonlySet<CompiledGroup>;
  readonly pools: ReadonlySet<UpstreamPool>;
  /** By the key HandlingContext.limiters keeps them under. */
  readonly limiters: ReadonlyMap<string, RateLimiter>;
}

export interface CompiledSite extends Routable {
  /** The site's own settings: what a request no route takes is handled with. */
  readonly handling: Handling;
  readonly routes: RouteTable<Handling>;
  /** Plain-HTTP requests are answered with 308 to https. */
  readonly httpsRedirect: boolean;
  readonly config: SiteConfig;
  /** This site's metrics records (its routes' and servers' too), kept across reloads that keep the site. */
  readonly metrics: SiteRecords;
  /** The content key of its config text (Generation.siteKeys), if it has one. */
  readonly key: string | undefined;
  readonly uses: SiteUses;
}

export interface CompiledGeneration {
  readonly generation: Generation;
  readonly router: HostRouter<CompiledSite>;
  readonly sites: readonly CompiledSite[];
  readonly groups: ReadonlyMap<string, CompiledGroup>;
  readonly pools: ReadonlySet<UpstreamPool>;
  readonly limiters: ReadonlyMap<string, RateLimiter>;
  readonly metrics: GenerationRecords;
  /** Its sites by content key: what the next generation may keep (and only this generation's). */
  readonly sitesByKey: ReadonlyMap<string, CompiledSite>;
  /** How many sites were taken over from the previous generation rather than compiled. */
  readonly sitesKept: number;
  /** What its sites' routes share; the next generation's pool starts from it. */
  readonly shapes: RouteShapes;
}

/**
 * The generation a reload message means: its null sites are the ones `previous` (what this
 * worker serves) has under the same key. A key the worker does not hold fails the apply, and the
 * master replaces the worker with one started on the whole generation.
 */
export function resolveGeneration(wire: WireGeneration, previous: CompiledGeneration | undefined): Generation {
  const keys = wire.siteKeys;
  const sites = wire.sites.map((site, i) => {
    if (site !== null) return site;
    const key = keys?.[i];
    const held = key === undefined ? undefined : previous?.sitesByKey.get(key);
    if (held === undefined) throw new Error(`generation ${wire.id}: site ${i} was sent as unchanged, but this worker does not hold it`);
    return held.config;
  });
  return { ...wire, sites };
}

function compileSite(config: SiteConfig, key: string | undefined, metrics: SiteRecords, shared: HandlingContext): CompiledSite {
  const limiters = new Map<string, RateLimiter>();
  const context: HandlingContext = { ...shared, limiters };
  const handling = siteHandling(config, context);
  const routes = new RouteTable(config.routes, (route, name) => routeHandling(config, handling, route, name, context), shared.shapes);
  for (const [k, limiter] of limiters) shared.limiters.set(k, limiter);
  // Targets are shared between the sites of a generation: what this one uses is read off its handlings.
  const groups = new Set<CompiledGroup>();
  const pools = new Set<UpstreamPool>();
  for (const h of [handling, ...routes.routes.map((r) => r.settings)]) {
    groups.add(h.target.group);
    for (const pool of h.target.pools.values()) pools.add(pool);
  }
  return { hosts: config.host ?? [], isDefault: config.default, handling, routes, httpsRedirect: config.https_redirect, config, metrics, key, uses: { groups, pools, limiters } };
}

/** `previous`'s compiled site for `key`, if every group it forwards to is still the very same one. */
function keptSite(previous: CompiledGeneration | undefined, key: string | undefined, groups: ReadonlyMap<string, CompiledGroup>): CompiledSite | undefined {
  const site = key === undefined ? undefined : previous?.sitesByKey.get(key);
  if (site === undefined) return undefined;
  for (const group of site.uses.groups) if (groups.get(group.name) !== group) return undefined;
  return site;
}

/** `records`: the metrics records of `generation`'s series (WorkerMetrics.recordsFor), site by site. */
export function compileGeneration(generation: Generation, pools: UpstreamPools, previous: CompiledGeneration | undefined, states: ServerStates, records: GenerationRecords): CompiledGeneration {
  const groups = compileGroups(namedGroups(generation), previous?.groups, states, generation.caFiles);
  const shapes = new RouteShapes(previous?.shapes);
  const context: HandlingContext = { groups, pools, used: new Set(), previousLimiters: previous?.limiters ?? new Map(), limiters: new Map(), targets: new Map(), shapes };
  const sitesByKey = new Map<string, CompiledSite>();
  let sitesKept = 0;
  const sites = generation.sites.map((config, index): CompiledSite => {
    const key = generation.siteKeys?.[index];
    const metrics = records.sites[index] as SiteRecords;
    const kept = keptSite(previous, key, groups);
    let site: CompiledSite;
    if (kept === undefined) site = compileSite(config, key, metrics, context);
    else {
      sitesKept++;
      site = { ...kept, metrics };
      shapes.adopt(kept.routes.shape);
      for (const pool of kept.uses.pools) context.used.add(pool);
      for (const [k, limiter] of kept.uses.limiters) context.limiters.set(k, limiter);
    }
    if (key !== undefined) sitesByKey.set(key, site);
    return site;
  });
  return { generation, router: new HostRouter(sites), sites, groups, pools: context.used, limiters: context.limiters, metrics: records, sitesByKey, sitesKept, shapes };
}

function groupLabel(handling: Handling): string {
  const group = handling.target.group;
  // A site's or route's own URL list reads as the URLs, as it is written in the config.
  if (group.name.startsWith('site:')) return group.balancer.servers.map((s) => s.origin).join(', ');
  return `upstream group ${group.name}`;
}

function describeRoute(route: CompiledRoute<Handling>): string {
  const m = route.matcher;
  const match = m.kind === 'exact' ? `path ${m.path}` : m.kind === 'prefix' ? `prefix ${m.base || '/'}` : m.kind === 'regex' ? `regex ${m.regex.source}` : 'any path';
  const conditions = [match];
  if (route.methods !== undefined) conditions.push(`methods ${[...route.methods].join(',')}`);
  for (const [name, value] of route.headers) conditions.push(`header ${name}=${value}`);
  const a = route.action;
  let action: string;
  if (a.kind === 'redirect') action = `redirect ${a.status} ${a.to}${a.keepPath ? ' (keep path)' : ''}`;
  else if (a.kind === 'respond') action = `respond ${a.status}`;
  else action = groupLabel(route.settings) + (a.rewrite === undefined ? '' : a.rewrite.kind === 'strip' ? ' (strip prefix)' : ` (rewrite prefix to ${a.rewrite.prefix})`);
  return `  route ${route.name}: ${conditions.join(', ')} -> ${action}`;
}

/** One line per host pattern, for the worker's `show sites`; the site's routes follow its first, indented. */
export function describeSites(compiled: CompiledGeneration): string[] {
  const lines: string[] = [];
  for (const site of compiled.sites) {
    const patterns = site.isDefault ? [...site.hosts, '(default)'] : site.hosts;
    const h = site.handling;
    const details = [`connect ${site.config.connect_timeout_secs}s`, `request ${site.config.request_timeout_secs}s`];
    if (h.bodyLimitBytes !== undefined) details.push(`body ${h.bodyLimitBytes}`);
    if (h.rateLimiter) details.push(`rate ${h.rateLimiter.rps}/s burst ${h.rateLimiter.burst}`);
    if (site.httpsRedirect) details.push('https redirect');
    patterns.forEach((pattern, i) => {
      lines.push(`${pattern} -> ${groupLabel(h)} (${details.join(', ')})`);
      if (i === 0) for (const route of site.routes.routes) lines.push(describeRoute(route));
    });
  }
  return lines;
}
