// One site's routes, compiled once per generation: exact `path` routes in a Map, consulted
// first, then every other route in file order; the first match wins. A site without routes
// costs one comparison per request. The table is generic over what a route forwards to (the
// generation's upstream group) and over the settings a route inherits from its site.
import type { RouteConfig } from '../../config/routes-schema.ts';
import { routeName } from '../../config/upstream-groups.ts';
import { normalizePath } from './normalize.ts';
import { compilePathMatcher, matchLength, remainderAfter, type PathMatcher } from './path-matcher.ts';
import type { PrefixRewrite } from './rewrite.ts';

export type RouteAction =
  /** Where to (the route's group or the site's) is part of the route's settings. */
  | { kind: 'forward'; rewrite: PrefixRewrite | undefined }
  | { kind: 'redirect'; to: string; status: number; keepPath: boolean }
  | { kind: 'respond'; status: number; contentType: string; body: Buffer };

export interface CompiledRoute<Settings> {
  /** `name`, or `routes[<index>]`: what the access log and `show sites` call it. */
  readonly name: string;
  readonly matcher: PathMatcher;
  readonly methods: ReadonlySet<string> | undefined;
  /** `match_headers` as lower-case name / exact value pairs. */
  readonly headers: readonly (readonly [string, string])[];
  readonly action: RouteAction;
  /** The site's settings with this route's overrides applied. */
  readonly settings: Settings;
  readonly config: RouteConfig;
}

export interface RouteMatch<Settings> {
  readonly route: CompiledRoute<Settings>;
  /** What followed the matched part of the normalised path ("" or "/…"). */
  readonly remainder: string;
  /** The query, with its "?", or "". */
  readonly query: string;
}

/** The site's settings with the route's overrides applied (its group, header rules, limits…). */
export type RouteSettingsCompiler<Settings> = (route: RouteConfig, routeName: string) => Settings;

function hasHeader(rawHeaders: readonly string[], lowerName: string, value: string): boolean {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === lowerName.length && rawHeaders[i + 1] === value && name.toLowerCase() === lowerName) return true;
  }
  return false;
}

export function compileRoute<Settings>(config: RouteConfig, index: number, settings: RouteSettingsCompiler<Settings>): CompiledRoute<Settings> {
  const name = routeName(config, index);
  let action: RouteAction;
  if (config.redirect !== undefined) {
    action = { kind: 'redirect', to: config.redirect.to, status: config.redirect.status, keepPath: config.redirect.keep_path };
  } else if (config.respond !== undefined) {
    action = { kind: 'respond', status: config.respond.status, contentType: config.respond.content_type, body: Buffer.from(config.respond.body) };
  } else {
    const rewrite: PrefixRewrite | undefined = config.strip_prefix ? { kind: 'strip' } : config.rewrite_prefix !== undefined ? { kind: 'replace', prefix: config.rewrite_prefix } : undefined;
    action = { kind: 'forward', rewrite };
  }
  return {
    name,
    matcher: compilePathMatcher(config),
    methods: config.methods === undefined ? undefined : new Set(config.methods),
    headers: Object.entries(config.match_headers ?? {}).map(([n, v]) => [n.toLowerCase(), v] as const),
    action,
    settings: settings(config, name),
    config,
  };
}

export class RouteTable<Settings> {
  readonly routes: readonly CompiledRoute<Settings>[];
  readonly #exact = new Map<string, CompiledRoute<Settings>[]>();
  readonly #ordered: CompiledRoute<Settings>[] = [];

  constructor(configs: readonly RouteConfig[], settings: RouteSettingsCompiler<Settings>) {
    this.routes = configs.map((config, i) => compileRoute(config, i, settings));
    for (const route of this.routes) {
      if (route.matcher.kind !== 'exact') {
        this.#ordered.push(route);
        continue;
      }
      const list = this.#exact.get(route.matcher.path);
      if (list === undefined) this.#exact.set(route.matcher.path, [route]);
      else list.push(route);
    }
  }

  /** The first route that takes this request, or undefined (the site's settings apply). */
  match(method: string, target: string, rawHeaders: readonly string[]): RouteMatch<Settings> | undefined {
    if (this.routes.length === 0) return undefined;
    const q = target.indexOf('?');
    const path = normalizePath(q < 0 ? target : target.slice(0, q));
    const query = q < 0 ? '' : target.slice(q);
    const exact = this.#exact.get(path);
    if (exact !== undefined) {
      for (const route of exact) if (this.#accepts(route, method, rawHeaders)) return { route, remainder: '', query };
    }
    for (const route of this.#ordered) {
      const length = matchLength(route.matcher, path);
      if (length >= 0 && this.#accepts(route, method, rawHeaders)) return { route, remainder: remainderAfter(path, length), query };
    }
    return undefined;
  }

  #accepts(route: CompiledRoute<Settings>, method: string, rawHeaders: readonly string[]): boolean {
    if (route.methods !== undefined && !route.methods.has(method)) return false;
    for (const [name, value] of route.headers) if (!hasHeader(rawHeaders, name, value)) return false;
    return true;
  }
}
