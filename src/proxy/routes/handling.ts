// How a request is handled once its site (and route, if one matched) is known: which group it
// is forwarded to and over which pools, its timeouts and limits, Host and Via choices, and the
// header rules of its route. The site compiles one for itself; each route compiles its own
// from the site's, with its overrides. All of it is worked out once per generation.
import { groupNameOf } from '../../config/upstream-groups.ts';
import type { RouteConfig } from '../../config/routes-schema.ts';
import type { SiteConfig } from '../../config/schema.ts';
import type { CompiledGroup } from '../balance/upstream-group.ts';
import type { UpstreamServer } from '../balance/server.ts';
import { CLIENT_IDLE_GRACE_MS } from '../limits.ts';
import type { UpstreamPool, UpstreamPools } from '../pools.ts';
import { RateLimiter } from '../rate-limit.ts';
import type { HeaderRules } from './header-rules.ts';
import type { RouteShapes } from './route-shapes.ts';

/** A group and the pools its servers are reached over with one connect timeout and cap. */
export interface ForwardTarget {
  readonly group: CompiledGroup;
  readonly pools: ReadonlyMap<UpstreamServer, UpstreamPool>;
}

export interface Handling {
  /** The route's name, or undefined for the site's own settings. */
  readonly route: string | undefined;
  readonly target: ForwardTarget;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Client connection idle limit while a request handled so is in progress. */
  readonly clientIdleTimeoutMs: number;
  readonly bodyLimitBytes: number | undefined;
  readonly rateLimiter: RateLimiter | undefined;
  readonly preserveHost: boolean;
  readonly via: boolean;
  readonly maxConnections: number;
  readonly requestRules: HeaderRules | undefined;
  readonly responseRules: HeaderRules | undefined;
}

/** What compiling needs from the generation being built. */
export interface HandlingContext {
  readonly groups: ReadonlyMap<string, CompiledGroup>;
  readonly pools: UpstreamPools;
  /** Every pool the generation uses; the others are closed once it is in place. */
  readonly used: Set<UpstreamPool>;
  /** The previous generation's limiters by key, so a reload that keeps a limit hands nobody a fresh burst. */
  readonly previousLimiters: ReadonlyMap<string, RateLimiter>;
  /** This generation's limiters by key, filled as they are compiled. */
  readonly limiters: Map<string, RateLimiter>;
  /** Targets already built in this generation, by group, timeout and cap. */
  readonly targets: Map<string, ForwardTarget>;
  /** The generation's route shapes, header rules among them (shared by every route with the same rules). */
  readonly shapes: RouteShapes;
}

const secondsToMs = (seconds: number) => Math.round(seconds * 1000);

function targetOf(context: HandlingContext, groupName: string, connectTimeoutMs: number, maxConnections: number): ForwardTarget {
  const key = `${groupName} ${connectTimeoutMs} ${maxConnections}`;
  const existing = context.targets.get(key);
  if (existing !== undefined) return existing;
  // The config was validated: every group a site or route names exists.
  const group = context.groups.get(groupName) as CompiledGroup;
  const pools = new Map<UpstreamServer, UpstreamPool>();
  for (const server of group.balancer.servers) {
    const pool = context.pools.get(server.origin, connectTimeoutMs, maxConnections, group.tls);
    context.used.add(pool);
    pools.set(server, pool);
  }
  const target = { group, pools };
  context.targets.set(key, target);
  return target;
}

function limiter(context: HandlingContext, key: string, rate: { rps: number; burst: number } | undefined): RateLimiter | undefined {
  if (rate === undefined) return undefined;
  const fullKey = JSON.stringify([key, rate.rps, rate.burst]);
  const kept = context.previousLimiters.get(fullKey) ?? new RateLimiter(rate);
  context.limiters.set(fullKey, kept);
  return kept;
}

/** The limiter key a site's own limit is kept under across reloads. */
function siteKey(site: SiteConfig): string {
  return JSON.stringify([site.host ?? [], site.default]);
}

export function siteHandling(site: SiteConfig, context: HandlingContext): Handling {
  const connectTimeoutMs = secondsToMs(site.connect_timeout_secs);
  const requestTimeoutMs = secondsToMs(site.request_timeout_secs);
  return {
    route: undefined,
    target: targetOf(context, groupNameOf(site.upstream, site), connectTimeoutMs, site.max_connections),
    connectTimeoutMs,
    requestTimeoutMs,
    clientIdleTimeoutMs: requestTimeoutMs + CLIENT_IDLE_GRACE_MS,
    bodyLimitBytes: site.body_limit_bytes,
    rateLimiter: limiter(context, siteKey(site), site.rate_limit),
    preserveHost: site.preserve_host,
    via: site.via,
    maxConnections: site.max_connections,
    requestRules: undefined,
    responseRules: undefined,
  };
}

export function routeHandling(site: SiteConfig, base: Handling, route: RouteConfig, name: string, context: HandlingContext): Handling {
  const connectTimeoutMs = route.connect_timeout_secs === undefined ? base.connectTimeoutMs : secondsToMs(route.connect_timeout_secs);
  const requestTimeoutMs = route.request_timeout_secs === undefined ? base.requestTimeoutMs : secondsToMs(route.request_timeout_secs);
  // Most routes forward where their site does, with its timeout: that is the site's target.
  const sameTarget = route.upstream === undefined && connectTimeoutMs === base.connectTimeoutMs;
  const groupName = route.upstream === undefined ? base.target.group.name : groupNameOf(route.upstream, site, name);
  return {
    route: name,
    target: sameTarget ? base.target : targetOf(context, groupName, connectTimeoutMs, base.maxConnections),
    connectTimeoutMs,
    requestTimeoutMs,
    clientIdleTimeoutMs: requestTimeoutMs + CLIENT_IDLE_GRACE_MS,
    bodyLimitBytes: route.body_limit_bytes ?? base.bodyLimitBytes,
    // A route with a limit of its own has its own buckets; one without shares the site's.
    rateLimiter: route.rate_limit === undefined ? base.rateLimiter : limiter(context, `${siteKey(site)} ${name}`, route.rate_limit),
    preserveHost: route.preserve_host ?? base.preserveHost,
    via: route.via ?? base.via,
    maxConnections: base.maxConnections,
    requestRules: context.shapes.headerRules(route.request_headers),
    responseRules: context.shapes.headerRules(route.response_headers),
  };
}
