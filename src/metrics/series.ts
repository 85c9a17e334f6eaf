// Which series a config generation exports: one record per site (named by its `name`, else its
// first host, else "default"), one per route of the site, one per upstream server the site or
// one of its routes sends to, and one for requests that matched no site. Workers make their
// records from this list and the master exports only what it names, so a site, route or server
// removed by a reload stops being exported everywhere at once.
import type { SiteConfig, UpstreamGroupConfig } from '../config/schema.ts';
import { siteName } from '../config/site-name.ts';
import { routeName } from '../config/upstream-groups.ts';
import type { RecordLabels } from './recorder.ts';

/** The site label of requests no site took (unknown host, bad request). Not a valid site name. */
export const UNROUTED_SITE = '(none)';

export interface SiteSeries {
  site: RecordLabels;
  /** In the order of the site's `routes`. */
  routes: RecordLabels[];
  /** The site's own servers in `upstream` order, then those only its routes use. */
  servers: RecordLabels[];
}

/** What of a generation decides its series; `upstreams` are the `[[upstreams]]` groups. */
export interface SeriesSource {
  sites: readonly SiteConfig[];
  upstreams?: readonly UpstreamGroupConfig[];
}

/** The server origins an `upstream` value means: its own URLs, or those of the group it names. */
function serversOf(upstream: readonly string[], groups: ReadonlyMap<string, UpstreamGroupConfig>): string[] {
  const group = upstream.length === 1 ? groups.get(upstream[0]!) : undefined;
  return group ? group.servers.map((s) => s.url) : [...upstream];
}

/** The `[[upstreams]]` groups by name, as siteSeriesOf reads them. */
export function groupsByName(upstreams: readonly UpstreamGroupConfig[] | undefined): ReadonlyMap<string, UpstreamGroupConfig> {
  return new Map((upstreams ?? []).map((g) => [g.name, g]));
}

/** One site's series: they depend on the site's config and the groups it names, nothing else. */
export function siteSeriesOf(config: SiteConfig, groups: ReadonlyMap<string, UpstreamGroupConfig>): SiteSeries {
  const site = siteName(config);
  const origins = new Set(serversOf(config.upstream, groups));
  for (const route of config.routes ?? []) if (route.upstream !== undefined) for (const origin of serversOf(route.upstream, groups)) origins.add(origin);
  return {
    site: { site },
    routes: (config.routes ?? []).map((route, index) => ({ site, route: routeName(route, index) })),
    servers: [...origins].map((server) => ({ site, server })),
  };
}

export function seriesOf(source: SeriesSource): SiteSeries[] {
  const groups = groupsByName(source.upstreams);
  return source.sites.map((config) => siteSeriesOf(config, groups));
}
