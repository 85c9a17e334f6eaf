// What a site's routes are apart from the site: how they match (one RouteMatcher for the list)
// and what each does (its name and action). Sites whose routes are written alike share one
// shape, and sites whose routes only match alike share its matcher: a config of 1,000 sites
// generated from a template compiles its routes once, not 1,000 times, and a request's walk
// over the routes it misses reads the same, warm, arrays whichever site it is for. The
// per-site part (the settings each route merges with its site's) stays in the RouteTable.
import { compilePathRegex } from '../../config/linear-regex.ts';
import { sha256Hex } from '../../config/referenced-files.ts';
import type { HeaderRulesConfig, RouteConfig } from '../../config/routes-schema.ts';
import { routeName } from '../../config/upstream-groups.ts';
import { compileHeaderRules, type HeaderRules } from './header-rules.ts';
import type { PathMatcher } from './path-matcher.ts';
import { RouteMatcher, type RouteConditions } from './route-matcher.ts';
import type { PrefixRewrite } from './rewrite.ts';

export type RouteAction =
  /** Where to (the route's group or the site's) is part of the route's settings. */
  | { kind: 'forward'; rewrite: PrefixRewrite | undefined }
  | { kind: 'redirect'; to: string; status: number; keepPath: boolean }
  | { kind: 'respond'; status: number; contentType: string; body: Buffer };

/** One route of a shape: what it is called and what it does. */
interface ShapedRoute {
  /** `name`, or `routes[<index>]`: what the access log and `show sites` call it. */
  readonly name: string;
  readonly action: RouteAction;
}

export interface RouteShape {
  /** The SHA-256 of its routes' configs as JSON: the key sites share it by. */
  readonly key: string;
  readonly matcher: RouteMatcher;
  readonly routes: readonly ShapedRoute[];
}

function compileAction(config: RouteConfig): RouteAction {
  if (config.redirect !== undefined) return { kind: 'redirect', to: config.redirect.to, status: config.redirect.status, keepPath: config.redirect.keep_path };
  if (config.respond !== undefined) return { kind: 'respond', status: config.respond.status, contentType: config.respond.content_type, body: Buffer.from(config.respond.body) };
  const rewrite: PrefixRewrite | undefined = config.strip_prefix ? { kind: 'strip' } : config.rewrite_prefix !== undefined ? { kind: 'replace', prefix: config.rewrite_prefix } : undefined;
  return { kind: 'forward', rewrite };
}

/** The part of a route config its matching depends on, as the key matchers are shared by. */
const conditionsOf = (c: RouteConfig) => [c.path, c.path_prefix, c.path_regex, c.methods, c.match_headers];

/**
 * The shapes, matchers, regexes and header rules of one generation's sites, by content. A
 * generation's pool is made from the previous one's: a reload that compiles one edited site
 * finds what the other 999 share. Kept sites are adopted (two Map entries each), so the pool
 * holds what its generation uses and what it compiled, and nothing older.
 */
interface Pool {
  readonly shapes: Map<string, RouteShape>;
  readonly matchers: Map<string, RouteMatcher>;
  readonly regexes: Map<string, RegExp>;
  readonly rules: Map<string, HeaderRules | undefined>;
}

const emptyPool = (): Pool => ({ shapes: new Map(), matchers: new Map(), regexes: new Map(), rules: new Map() });

export class RouteShapes {
  readonly #own: Pool = emptyPool();
  /** The previous generation's own pool (never its previous one's: pools do not chain). */
  readonly #previous: Pool;

  constructor(previous?: RouteShapes) {
    this.#previous = previous === undefined ? emptyPool() : previous.#own;
  }

  /** The shape of this list of routes, shared with every site of the generation that has the same list. */
  shape(configs: readonly RouteConfig[]): RouteShape {
    // Hashed: 1,000 sites whose routes all differ would otherwise hold 2 KB of key each.
    const key = sha256Hex(JSON.stringify(configs));
    const shape = this.#pooled((p) => p.shapes, key, () => ({ key, matcher: this.#matcher(configs), routes: configs.map((c, i) => ({ name: routeName(c, i), action: compileAction(c) })) }));
    this.adopt(shape); // its matcher too, when the shape is the previous generation's
    return shape;
  }

  /** Keeps a shape a kept site uses (and its matcher) for the sites this generation and the next compile. */
  adopt(shape: RouteShape): void {
    this.#own.shapes.set(shape.key, shape);
    this.#own.matchers.set(shape.matcher.key, shape.matcher);
  }

  /** A route's compiled `request_headers` / `response_headers`, shared by every route that has the same rules. */
  headerRules(config: HeaderRulesConfig | undefined): HeaderRules | undefined {
    if (config === undefined) return undefined;
    return this.#pooled((p) => p.rules, JSON.stringify(config), () => compileHeaderRules(config));
  }

  /** What `pool` holds for `key`: this generation's, else the previous one's, else `make()`; kept in this generation's from now on. */
  #pooled<T>(pool: (p: Pool) => Map<string, T>, key: string, make: () => T): T {
    const own = pool(this.#own);
    if (own.has(key)) return own.get(key) as T;
    const previous = pool(this.#previous);
    const value = previous.has(key) ? (previous.get(key) as T) : make();
    own.set(key, value);
    return value;
  }

  #matcher(configs: readonly RouteConfig[]): RouteMatcher {
    const key = sha256Hex(JSON.stringify(configs.map(conditionsOf)));
    return this.#pooled((p) => p.matchers, key, () => new RouteMatcher(key, configs.map((c) => this.#conditions(c))));
  }

  #conditions(config: RouteConfig): RouteConditions {
    return {
      matcher: this.#pathMatcher(config),
      methods: config.methods === undefined ? undefined : new Set(config.methods),
      headers: Object.entries(config.match_headers ?? {}).map(([n, v]) => [n.toLowerCase(), v] as const),
    };
  }

  #pathMatcher(route: RouteConfig): PathMatcher {
    if (route.path !== undefined) return { kind: 'exact', path: route.path };
    if (route.path_prefix !== undefined) return { kind: 'prefix', base: route.path_prefix.replace(/\/+$/, '') };
    if (route.path_regex === undefined) return { kind: 'any' };
    const source = route.path_regex;
    // Safe to share: a path regex has no `g` or `y` flag, so matching keeps no state in it.
    return { kind: 'regex', regex: this.#pooled((p) => p.regexes, source, () => compilePathRegex(source)) };
  }
}
