// The host → site table of one generation. Built once per reload; a lookup is a Map hit for
// exact names and one Map probe per label for wildcards, never a scan over every site.

/** Anything that can be routed to; the router does not care what a site carries. */
export interface Routable {
  readonly hosts: readonly string[];
  readonly isDefault: boolean;
}

export class HostRouter<Site extends Routable> {
  readonly #exact = new Map<string, Site>();
  /** Keyed by the suffix including its leading dot: "*.example.com" → ".example.com". */
  readonly #wildcards = new Map<string, Site>();
  readonly #fallback: Site | undefined;

  constructor(sites: readonly Site[]) {
    let fallback: Site | undefined;
    for (const site of sites) {
      for (const pattern of site.hosts) {
        // First site wins on a duplicate, matching the order an operator reads the file in;
        // config validation is what reports duplicates.
        const table = pattern.startsWith('*.') ? this.#wildcards : this.#exact;
        const key = pattern.startsWith('*.') ? pattern.slice(1) : pattern;
        if (!table.has(key)) table.set(key, site);
      }
      if (site.isDefault && fallback === undefined) fallback = site;
    }
    this.#fallback = fallback;
  }

  /** Exact name first, then the longest matching `*.suffix`, then the default site. */
  match(host: string): Site | undefined {
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    if (this.#wildcards.size > 0) {
      // Walking dots left to right tries the longest suffix first; a wildcard needs at least
      // one label in front of it, so "example.com" never matches "*.example.com".
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        const site = this.#wildcards.get(host.slice(dot));
        if (site !== undefined) return site;
      }
    }
    return this.#fallback;
  }
}
