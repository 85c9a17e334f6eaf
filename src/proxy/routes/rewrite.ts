// Where a matched request goes next: the target forwarded after strip_prefix / rewrite_prefix,
// and the Location of a redirect. Pure string work on what the route table matched.

export type PrefixRewrite = { kind: 'strip' } | { kind: 'replace'; prefix: string };

/** `/v2/` + `/users` → `/v2/users`; an empty remainder keeps the new prefix as written. */
function joinPath(prefix: string, remainder: string): string {
  if (remainder === '') return prefix;
  return prefix.endsWith('/') ? prefix.slice(0, -1) + remainder : prefix + remainder;
}

/** The origin-form target to forward: new prefix, the rest of the normalised path, the query. */
export function rewriteTarget(rewrite: PrefixRewrite, remainder: string, query: string): string {
  const path = rewrite.kind === 'strip' ? remainder || '/' : joinPath(rewrite.prefix, remainder);
  return path + query;
}

/**
 * A redirect's Location: `to`, plus (with keep_path) what followed the match, before any query
 * `to` has, and the request's query after it.
 */
export function redirectLocation(to: string, keepPath: boolean, remainder: string, query: string): string {
  if (!keepPath) return to;
  const q = to.indexOf('?');
  const path = joinPath(q < 0 ? to : to.slice(0, q), remainder);
  const ownQuery = q < 0 ? '' : to.slice(q);
  if (ownQuery === '' || query === '') return path + (ownQuery || query);
  return `${path}${ownQuery}&${query.slice(1)}`;
}

/** `https_redirect`: the same host (without its port) and target on https. */
export function httpsLocation(host: string, target: string): string {
  return `https://${host}${target}`;
}
