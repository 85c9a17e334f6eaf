// Which series a config generation exports: one record per site (named by its `name`, else its
// first host, else "default"), one per upstream server of each site, and one for requests that
// matched no site. Workers make their records from this list and the master exports only what
// it names, so a site removed by a reload stops being exported everywhere at once.
import type { SiteConfig } from '../config/schema.ts';
import { siteName } from '../config/site-name.ts';
import type { RecordLabels } from './recorder.ts';

/** The site label of requests no site took (unknown host, bad request). Not a valid host name. */
export const UNROUTED_SITE = '(none)';

export interface SiteSeries {
  site: RecordLabels;
  servers: RecordLabels[];
}

export function seriesOf(sites: readonly SiteConfig[]): SiteSeries[] {
  return sites.map((config) => {
    const site = siteName(config);
    return { site: { site }, servers: config.upstream.map((server) => ({ site, server })) };
  });
}
