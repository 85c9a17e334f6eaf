// The checks every request passes before it is forwarded, shared by plain requests and
// upgrades: a usable target and Host, a site for that host, the route of that site it takes,
// and the rate limit of that route (the site's own, unless the route has one).
import type { CompiledGeneration, CompiledSite } from './generation.ts';
import type { ClientHead } from './headers.ts';
import { normalizeHost } from './host.ts';
import type { ProxyReply } from './responses.ts';
import type { Handling } from './routes/handling.ts';
import type { RouteMatch } from './routes/route-table.ts';

type Admission =
  | {
      ok: true;
      site: CompiledSite;
      /** The route's handling, or the site's own when no route matched. */
      handling: Handling;
      /** The route that matched, with what followed its match; undefined: the site's own settings. */
      match: RouteMatch<Handling> | undefined;
      /** Normalized host the request was routed on. */
      host: string;
      /** The Host as the client gave it (from the absolute-form target if it used one). */
      authority: string | undefined;
      path: string;
    }
  | {
      ok: false;
      reply: ProxyReply;
      code: string;
      host: string | undefined;
      /** The site that refused it (rate limit), for its metrics; undefined when no site took it. */
      site?: CompiledSite;
      /** The route whose limit refused it, if one matched. */
      match?: RouteMatch<Handling> | undefined;
    };

function refuse(status: number, message: string, code: string, host?: string, headers?: string[]): Admission {
  return { ok: false, reply: { status, message, ...(headers ? { headers } : {}) }, code, host };
}

export function admit(compiled: CompiledGeneration | undefined, method: string, url: string, httpVersion: string, head: ClientHead, remote: string): Admission {
  let path = url;
  let rawHost = head.host;
  if (url.charCodeAt(0) !== 0x2f /* / */) {
    // Absolute form ("GET http://example.com/x"): RFC 9112 §3.2.2 says its authority wins
    // over the Host header.
    const absolute = parseAbsoluteTarget(url);
    if (absolute === undefined) return refuse(400, 'invalid request target', 'ERR_INVALID_TARGET');
    path = absolute.path;
    rawHost = absolute.host;
  }
  if (rawHost === undefined || rawHost === '') {
    // HTTP/1.0 predates Host: such a request goes to the default site, as in nginx.
    const fallback = httpVersion === '1.0' ? compiled?.router.match('') : undefined;
    if (fallback === undefined) return refuse(400, 'missing Host header', 'ERR_MISSING_HOST');
    return routed(fallback, method, head, '', undefined, path, remote);
  }
  const host = normalizeHost(rawHost);
  if (host === undefined) return refuse(400, 'invalid Host header', 'ERR_INVALID_HOST');
  if (compiled === undefined) return refuse(503, 'no configuration loaded yet', 'ERR_NOT_READY', host);
  const site = compiled.router.match(host);
  // The host is normalized to [a-z0-9._-] (or an IPv6 literal), so echoing it is safe.
  if (site === undefined) return refuse(404, `no site for host "${host}"`, 'ERR_NO_SITE', host);
  return routed(site, method, head, host, rawHost, path, remote);
}

function routed(site: CompiledSite, method: string, head: ClientHead, host: string, authority: string | undefined, path: string, remote: string): Admission {
  // match_headers look at the end-to-end headers: the ones the proxy owns cannot be matched on.
  const match = site.routes.match(method, path, head.forwarded);
  const handling = match?.route.settings ?? site.handling;
  const retryAfter = handling.rateLimiter?.take(remote) ?? 0;
  if (retryAfter > 0) return { ...refuse(429, 'too many requests', 'ERR_RATE_LIMITED', host, ['retry-after', String(retryAfter)]), site, match };
  return { ok: true, site, handling, match, host, authority, path };
}

function parseAbsoluteTarget(url: string): { path: string; host: string } | undefined {
  if (!url.startsWith('http://') && !url.startsWith('https://')) return undefined;
  try {
    const parsed = new URL(url);
    return { path: `${parsed.pathname}${parsed.search}`, host: parsed.host };
  } catch {
    return undefined;
  }
}
