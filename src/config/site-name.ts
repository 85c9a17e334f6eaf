// A site's name labels its metrics series and `show stat` rows. The key is optional: a site
// is otherwise known by its first host, and a host-less default site as "default".
import type { SiteConfig } from './schema.ts';

export function siteName(site: Pick<SiteConfig, 'name' | 'host'>): string {
  return site.name ?? site.host?.[0] ?? 'default';
}
