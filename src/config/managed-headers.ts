// Headers a route's header rules may not touch, because the proxy itself owns them: hop-by-hop
// headers describe one connection, message framing belongs to the proxy's writer, and the
// X-Forwarded-* / X-Real-IP / Host / Via set is what the upstream trusts the proxy to have
// written. A rule naming one is refused when the config is loaded, so it cannot break them.

/** RFC 9110 token characters: what a header name may be made of. */
export const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate'];
const FRAMING = ['content-length'];
const FORWARDING = ['host', 'expect', 'x-real-ip', 'via'];

const MANAGED_ON_REQUESTS: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...FRAMING, ...FORWARDING]);
const MANAGED_ON_RESPONSES: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...FRAMING, 'via']);

/** Why `name` cannot be used in a header rule on that side, or undefined when it can. */
export function headerRuleProblem(side: 'request' | 'response', name: string): string | undefined {
  if (!HEADER_NAME.test(name)) return `"${name}" is not a header name`;
  const lower = name.toLowerCase();
  const managed = side === 'request' ? MANAGED_ON_REQUESTS.has(lower) || lower.startsWith('x-forwarded-') : MANAGED_ON_RESPONSES.has(lower);
  if (!managed) return undefined;
  if (lower === 'host') return '"host" is set by the proxy; use the route\'s or site\'s "preserve_host"';
  if (lower === 'via') return '"via" is set by the proxy; use the route\'s or site\'s "via"';
  return `"${lower}" is managed by the proxy (hop-by-hop, framing or forwarding header) and cannot be changed by a rule`;
}
