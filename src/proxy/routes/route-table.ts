// One site's routes, compiled once per generation: exact `path` routes first, then every other
// route in file order; the first match wins. A site without routes costs one comparison per
// request. How the routes match and what they do comes from their shape, shared by every site
// whose routes are written alike (route-shapes.ts); what is the site's own is each route's
// settings (the site's, with the route's overrides) and its config. The table is generic over
// those settings.
import type { RouteConfig } from '../../config/routes-schema.ts';
import { normalizePath } from './normalize.ts';
import { remainderAfter, type PathMatcher } from './path-matcher.ts';
import { RouteShapes, type RouteAction, type RouteShape } from './route-shapes.ts';

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
  /**
   * What followed the matched part of the normalised path ("" or "/…"), for the actions that
   * read it (a rewrite, a redirect that keeps the path); "" for the others.
   */
  readonly remainder: string;
  /** The query, with its "?", or "". */
  readonly query: string;
}

/** The site's settings with the route's overrides applied (its group, header rules, limits…). */
type RouteSettingsCompiler<Settings> = (route: RouteConfig, routeName: string) => Settings;

/** Whether an action reads what follows the matched part: working it out runs a route's regex again. */
function usesRemainder(action: RouteAction): boolean {
  return action.kind === 'redirect' ? action.keepPath : action.kind === 'forward' && action.rewrite !== undefined;
}

export class RouteTable<Settings> {
  readonly routes: readonly CompiledRoute<Settings>[];
  readonly shape: RouteShape;

  /** `shapes`: the generation's pool, where sites find the shape their routes share. */
  constructor(configs: readonly RouteConfig[], settings: RouteSettingsCompiler<Settings>, shapes = new RouteShapes()) {
    const shape = shapes.shape(configs);
    this.shape = shape;
    const conditions = shape.matcher.conditions;
    this.routes = configs.map((config, i) => {
      const { name, action } = shape.routes[i]!;
      const { matcher, methods, headers } = conditions[i]!;
      return { name, matcher, methods, headers, action, settings: settings(config, name), config };
    });
  }

  /** The first route that takes this request, or undefined (the site's settings apply). */
  match(method: string, target: string, rawHeaders: readonly string[]): RouteMatch<Settings> | undefined {
    if (this.routes.length === 0) return undefined;
    const q = target.indexOf('?');
    const path = normalizePath(q < 0 ? target : target.slice(0, q));
    const matcher = this.shape.matcher;
    const index = matcher.find(method, path, rawHeaders);
    if (index < 0) return undefined;
    const route = this.routes[index]!;
    const remainder = route.matcher.kind === 'exact' || !usesRemainder(route.action) ? '' : remainderAfter(path, matcher.matchedLength(index, path));
    return { route, remainder, query: q < 0 ? '' : target.slice(q) };
  }
}
