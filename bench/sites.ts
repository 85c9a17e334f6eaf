// The site set every system is configured with: SITE_COUNT named hosts plus a catch-all, all
// routed to the same upstream. The routing lookup is what the many-hosts workload measures,
// so every system does one per request, each in its own idiomatic way.

export const SITE_COUNT = 1_000;

export function siteHost(index: number): string {
  return `site-${index}.bench.test`;
}

export function siteHosts(count = SITE_COUNT): string[] {
  return Array.from({ length: count }, (_, i) => siteHost(i));
}
