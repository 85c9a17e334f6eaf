// Every upstream group of a config, named: the `[[upstreams]]` groups, plus one group for each
// site or route that lists its own URLs (round-robin, equal weights, no health check, default
// retries). The master (health checks, `show servers`, `set server`) and the workers (balancing)
// derive the same list from the same config, so a name means the same servers on both sides.
// Workers load this module: it must not load zod (the schema's types are erased).
import type { RetryCondition, RouteConfig, UpstreamGroupConfig } from './routes-schema.ts';
import type { SiteConfig } from './schema.ts';

/** What a group retries when its config says nothing (`retries` in docs/config.md). */
export const DEFAULT_RETRIES: { attempts: number; on: RetryCondition[]; budget_percent: number } = { attempts: 2, on: ['connect_failure'], budget_percent: 20 };

/** True when an `upstream` value names a group rather than listing URLs. */
export function isGroupReference(upstream: readonly string[]): boolean {
  return upstream.length === 1 && !upstream[0]!.includes('://');
}

/** `set server … state`: ready takes traffic; drain and maint take no new requests. */
export const SERVER_ADMIN_STATES = ['ready', 'drain', 'maint'] as const;
export type ServerAdminState = (typeof SERVER_ADMIN_STATES)[number];

/** A server's state as the master's checks and `set server` have it; sent to every worker. */
export interface ServerState {
  group: string;
  url: string;
  health: 'up' | 'down';
  admin: ServerAdminState;
}

export interface NamedGroup extends UpstreamGroupConfig {
  /** A site's or route's own URL list rather than an `[[upstreams]]` entry. */
  readonly implicit: boolean;
}

/** `site:shop.example.com`, `site:default`; `site:shop.example.com:<route name>` for a route. */
function implicitGroupName(site: SiteConfig, routeName?: string): string {
  const siteName = `site:${site.host?.[0] ?? 'default'}`;
  return routeName === undefined ? siteName : `${siteName}:${routeName}`;
}

/** The default name of a route, as the access log and `show sites` print it. */
export function routeName(route: RouteConfig, index: number): string {
  return route.name ?? `routes[${index}]`;
}

/** The group a site's or route's `upstream` means. */
export function groupNameOf(upstream: readonly string[], site: SiteConfig, routeName?: string): string {
  return isGroupReference(upstream) ? (upstream[0] as string) : implicitGroupName(site, routeName);
}

/** A site's own URL list talks TLS the way the site says (its `tls_*` keys). */
function implicitGroup(name: string, urls: readonly string[], site: SiteConfig): NamedGroup {
  const tls = { tls_ca_file: site.tls_ca_file, tls_servername: site.tls_servername, tls_verify: site.tls_verify };
  return { name, servers: urls.map((url) => ({ url, weight: 1, backup: false })), balance: 'round_robin', hash_key: undefined, health_check: undefined, retries: DEFAULT_RETRIES, ...tls, implicit: true };
}

/**
 * The groups of each site's own URL lists, by the site's config object. A reload hands on the
 * very object of every site it did not change (the master's SiteCache, the workers' previous
 * generation), so those sites' groups come back as the same objects, and compileGroups can keep
 * a compiled group without comparing its config.
 */
const implicitGroupsOfSite = new WeakMap<SiteConfig, readonly NamedGroup[]>();

function implicitGroups(site: SiteConfig): readonly NamedGroup[] {
  const made = implicitGroupsOfSite.get(site);
  if (made !== undefined) return made;
  const groups: NamedGroup[] = [];
  if (!isGroupReference(site.upstream)) groups.push(implicitGroup(implicitGroupName(site), site.upstream, site));
  site.routes.forEach((route, i) => {
    if (route.upstream !== undefined && !isGroupReference(route.upstream)) groups.push(implicitGroup(implicitGroupName(site, routeName(route, i)), route.upstream, site));
  });
  implicitGroupsOfSite.set(site, groups);
  return groups;
}

export function namedGroups(config: { readonly upstreams: readonly UpstreamGroupConfig[]; readonly sites: readonly SiteConfig[] }): NamedGroup[] {
  const groups: NamedGroup[] = config.upstreams.map((g) => ({ ...g, implicit: false }));
  for (const site of config.sites) groups.push(...implicitGroups(site));
  return groups;
}
