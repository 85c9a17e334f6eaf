// Which series a config generation exports: one record per site (named by its `name`, else its
// first host, else "default"), one per upstream server of each site, and one for requests that
// matched no site. Workers make their records from this list and the master exports only what
// it names, so a site removed by a reload stops being exported everywhere at once.
import type { SiteConfig, UpstreamGroupConfig } from '../config/schema.ts';
import { siteName } from '../config/site-name.ts';
import type { RecordLabels } from './recorder.ts';

/** The site label of requests no site took (unknown host, bad request). Not a valid site name. */
export const UNROUTED_SITE = '(none)';

export interface SiteSeries {
  site: RecordLabels;
  servers: RecordLabels[];
}

/** What of a generation decides its series; `upstreams` are the `[[upstreams]]` groups. */
export interface SeriesSource {
  sites: readonly SiteConfig[];
  upstreams?: readonly UpstreamGroupConfig[];
}

/** A site's server origins: its own URLs, or those of the group it names. */
function serversOf(site: SiteConfig, groups: ReadonlyMap<string, UpstreamGroupConfig>): string[] {
  const group = site.upstream.length === 1 ? groups.get(site.upstream[0]!) : undefined;
  return group ? group.servers.map((s) => s.url) : [...site.upstream];
}

export function seriesOf(source: SeriesSource): SiteSeries[] {
  const groups = new Map((source.upstreams ?? []).map((g) => [g.name, g]));
  return source.sites.map((config) => {
    const site = siteName(config);
    return { site: { site }, servers: serversOf(config, groups).map((server) => ({ site, server })) };
  });
}
