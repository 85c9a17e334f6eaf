// A config generation and its compiled form: everything a request needs that can be worked out
// at reload time (routing table, pools, timeouts in ms, limiters) is computed here, once.
import type { Generation } from '../config/generation.ts';
import type { SiteConfig } from '../config/schema.ts';
import { CLIENT_IDLE_GRACE_MS } from './limits.ts';
import { RateLimiter } from './rate-limit.ts';
import { HostRouter, type Routable } from './router.ts';
import type { UpstreamPool, UpstreamPools } from './pools.ts';

export type { Generation } from '../config/generation.ts';

export interface CompiledSite extends Routable {
  readonly upstreams: readonly UpstreamPool[];
  /** Round-robin cursor over `upstreams`. */
  nextUpstream: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Client connection idle limit while a request of this site is in progress. */
  readonly clientIdleTimeoutMs: number;
  readonly bodyLimitBytes: number | undefined;
  readonly rateLimiter: RateLimiter | undefined;
  readonly preserveHost: boolean;
  readonly via: boolean;
  readonly config: SiteConfig;
}

export interface CompiledGeneration {
  readonly generation: Generation;
  readonly router: HostRouter<CompiledSite>;
  readonly sites: readonly CompiledSite[];
  readonly pools: ReadonlySet<UpstreamPool>;
}

export function compileGeneration(generation: Generation, pools: UpstreamPools, previous?: CompiledGeneration): CompiledGeneration {
  const previousLimiters = new Map<string, RateLimiter>();
  for (const site of previous?.sites ?? []) {
    if (site.rateLimiter) previousLimiters.set(limiterKey(site.config), site.rateLimiter);
  }
  const used = new Set<UpstreamPool>();
  const sites = generation.sites.map((config): CompiledSite => {
    const connectTimeoutMs = secondsToMs(config.connect_timeout_secs);
    const requestTimeoutMs = secondsToMs(config.request_timeout_secs);
    const tls = { ca: config.tls_ca_file === undefined ? undefined : generation.caFiles[config.tls_ca_file], servername: config.tls_servername, verify: config.tls_verify };
    const upstreams = config.upstream.map((origin) => pools.get(origin, connectTimeoutMs, config.max_connections, tls));
    for (const upstream of upstreams) used.add(upstream);
    const hosts = config.host ?? [];
    return {
      hosts,
      isDefault: config.default,
      upstreams,
      nextUpstream: 0,
      connectTimeoutMs,
      requestTimeoutMs,
      clientIdleTimeoutMs: requestTimeoutMs + CLIENT_IDLE_GRACE_MS,
      bodyLimitBytes: config.body_limit_bytes,
      // A reload that leaves a site's limit as it was keeps its buckets: reloading must not
      // hand every client a fresh burst.
      rateLimiter: config.rate_limit ? (previousLimiters.get(limiterKey(config)) ?? new RateLimiter(config.rate_limit)) : undefined,
      preserveHost: config.preserve_host,
      via: config.via,
      config,
    };
  });
  return { generation, router: new HostRouter(sites), sites, pools: used };
}

/** Round-robin over the site's upstreams, skipping ones ejected after a failed connect. */
export function pickUpstream(site: CompiledSite): UpstreamPool {
  const upstreams = site.upstreams;
  const count = upstreams.length;
  const start = site.nextUpstream;
  if (count > 1) {
    const now = performance.now();
    for (let step = 0; step < count; step++) {
      const index = (start + step) % count;
      const candidate = upstreams[index] as UpstreamPool;
      if (candidate.downUntil <= now) {
        site.nextUpstream = (index + 1) % count;
        return candidate;
      }
    }
  }
  // One upstream, or all ejected: plain rotation (a down upstream beats no upstream).
  site.nextUpstream = (start + 1) % count;
  return upstreams[start] as UpstreamPool;
}

function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

function limiterKey(config: SiteConfig): string {
  return JSON.stringify([config.host ?? [], config.default, config.rate_limit?.rps, config.rate_limit?.burst]);
}

/** One line per host pattern, for the worker's `show sites`. */
export function describeSites(compiled: CompiledGeneration): string[] {
  const lines: string[] = [];
  for (const site of compiled.sites) {
    const patterns = site.isDefault ? [...site.hosts, '(default)'] : site.hosts;
    const details = [`connect ${site.config.connect_timeout_secs}s`, `request ${site.config.request_timeout_secs}s`];
    if (site.bodyLimitBytes !== undefined) details.push(`body ${site.bodyLimitBytes}`);
    if (site.rateLimiter) details.push(`rate ${site.rateLimiter.rps}/s burst ${site.rateLimiter.burst}`);
    const upstreams = site.upstreams.map((u) => u.origin).join(', ');
    for (const pattern of patterns) lines.push(`${pattern} -> ${upstreams} (${details.join(', ')})`);
  }
  return lines;
}
