// A config generation and its compiled form: everything a request needs that can be worked out
// at reload time (host router, route tables, upstream groups and their pools, timeouts in ms,
// limiters, header rules) is computed here, once.
import type { Generation } from '../config/generation.ts';
import type { SiteConfig } from '../config/schema.ts';
import { namedGroups } from '../config/upstream-groups.ts';
import { compileGroups, type CompiledGroup, type ServerStates } from './balance/upstream-group.ts';
import type { UpstreamPool, UpstreamPools } from './pools.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { GenerationRecords, SiteRecords } from '../metrics/worker-metrics.ts';
import { HostRouter, type Routable } from './router.ts';
import { routeHandling, siteHandling, type Handling, type HandlingContext } from './routes/handling.ts';
import { RouteTable, type CompiledRoute } from './routes/route-table.ts';

export type { Generation } from '../config/generation.ts';

export interface CompiledSite extends Routable {
  /** The site's own settings: what a request no route takes is handled with. */
  readonly handling: Handling;
  readonly routes: RouteTable<Handling>;
  /** Plain-HTTP requests are answered with 308 to https. */
  readonly httpsRedirect: boolean;
  readonly config: SiteConfig;
  /** This site's metrics records (its routes' and servers' too), kept across reloads that keep the site. */
  readonly metrics: SiteRecords;
}

export interface CompiledGeneration {
  readonly generation: Generation;
  readonly router: HostRouter<CompiledSite>;
  readonly sites: readonly CompiledSite[];
  readonly groups: ReadonlyMap<string, CompiledGroup>;
  readonly pools: ReadonlySet<UpstreamPool>;
  readonly limiters: ReadonlyMap<string, RateLimiter>;
  readonly metrics: GenerationRecords;
}

/** `records`: the metrics records of `generation`'s series (WorkerMetrics.recordsFor), site by site. */
export function compileGeneration(generation: Generation, pools: UpstreamPools, previous: CompiledGeneration | undefined, states: ServerStates, records: GenerationRecords): CompiledGeneration {
  const groups = compileGroups(namedGroups(generation), previous?.groups, states, generation.caFiles);
  const context: HandlingContext = { groups, pools, used: new Set(), previousLimiters: previous?.limiters ?? new Map(), limiters: new Map(), targets: new Map() };
  const sites = generation.sites.map((config, index): CompiledSite => {
    const handling = siteHandling(config, context);
    return {
      hosts: config.host ?? [],
      isDefault: config.default,
      handling,
      routes: new RouteTable(config.routes, (route, name) => routeHandling(config, handling, route, name, context)),
      httpsRedirect: config.https_redirect,
      config,
      metrics: records.sites[index] as SiteRecords,
    };
  });
  return { generation, router: new HostRouter(sites), sites, groups, pools: context.used, limiters: context.limiters, metrics: records };
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
