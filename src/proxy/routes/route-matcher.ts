// The matching half of a route table: which route (by index) takes a normalised path, method
// and headers. It is kept apart from what the routes do so that every site whose routes match
// alike shares one (route-shapes.ts). Configs of many sites are generated from templates: with
// a copy per site, a request to one of 1,000 sites walked a cold copy of the routes it misses
// (route, matcher and prefix objects spread over the heap: cache misses on every one), which
// cost more than the matching itself. The walk reads arrays side by side, not route objects.
import { sameLowerCase } from '../http1/field-kinds.ts';
import { matchLength, onSegmentBoundary, type PathMatcher } from './path-matcher.ts';
import { regexLiteralPrefix } from './regex-prefix.ts';

/** What a route matches on. */
export interface RouteConditions {
  readonly matcher: PathMatcher;
  readonly methods: ReadonlySet<string> | undefined;
  /** `match_headers` as lower-case name / exact value pairs. */
  readonly headers: readonly (readonly [string, string])[];
}

const ANY = 0;
const PREFIX = 1;
const REGEX = 2;

function hasHeader(rawHeaders: readonly string[], lowerName: string, value: string): boolean {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === lowerName.length && rawHeaders[i + 1] === value && sameLowerCase(name, lowerName)) return true;
  }
  return false;
}

export class RouteMatcher {
  /** The SHA-256 of what its routes match on: the key sites share it by. */
  readonly key: string;
  readonly conditions: readonly RouteConditions[];
  readonly #exact = new Map<string, number[]>();
  /** The routes that are not exact paths, in file order: their index and kind, side by side. */
  readonly #ordered: number[] = [];
  readonly #kinds: number[] = [];
  /** Side by side with #ordered: a regex route's RegExp, else undefined. */
  readonly #regexes: (RegExp | undefined)[] = [];
  /**
   * Side by side with #ordered: what a path must start with for the route to take it (a prefix
   * route's base, the literal start of a regex, or ""), and that text's length and last
   * character code. The walk compares that one character of the path before it reads the
   * string or runs the regex: most misses end there, on arrays, whatever the routes' count.
   */
  readonly #starts: string[] = [];
  readonly #startLengths: number[] = [];
  readonly #startEnds: number[] = [];
  /** By route index: whether methods or headers are checked once the path matches. */
  readonly #conditional: boolean[];

  constructor(key: string, conditions: readonly RouteConditions[]) {
    this.key = key;
    this.conditions = conditions;
    this.#conditional = conditions.map((c) => c.methods !== undefined || c.headers.length > 0);
    conditions.forEach(({ matcher }, index) => {
      if (matcher.kind === 'exact') {
        const list = this.#exact.get(matcher.path);
        if (list === undefined) this.#exact.set(matcher.path, [index]);
        else list.push(index);
        return;
      }
      const start = matcher.kind === 'prefix' ? matcher.base : matcher.kind === 'regex' ? regexLiteralPrefix(matcher.regex.source) : '';
      this.#ordered.push(index);
      this.#kinds.push(matcher.kind === 'prefix' ? PREFIX : matcher.kind === 'regex' ? REGEX : ANY);
      this.#regexes.push(matcher.kind === 'regex' ? matcher.regex : undefined);
      this.#starts.push(start);
      this.#startLengths.push(start.length);
      this.#startEnds.push(start.length === 0 ? -1 : start.charCodeAt(start.length - 1));
    });
  }

  /** The index of the first route that takes this request: exact paths first, then file order; -1 for none. */
  find(method: string, path: string, rawHeaders: readonly string[]): number {
    const exact = this.#exact.get(path);
    if (exact !== undefined) {
      for (const index of exact) if (this.#accepts(index, method, rawHeaders)) return index;
    }
    const ordered = this.#ordered;
    const lengths = this.#startLengths;
    const ends = this.#startEnds;
    for (let k = 0; k < ordered.length; k++) {
      const length = lengths[k] as number;
      if (length > 0 && (path.length < length || path.charCodeAt(length - 1) !== ends[k] || !path.startsWith(this.#starts[k] as string))) continue;
      const kind = this.#kinds[k];
      const taken = kind === PREFIX ? onSegmentBoundary(path, length) : kind === REGEX ? (this.#regexes[k] as RegExp).test(path) : true;
      if (taken && this.#accepts(ordered[k] as number, method, rawHeaders)) return ordered[k] as number;
    }
    return -1;
  }

  /** How much of `path` the route at `index` (which find returned) matched. */
  matchedLength(index: number, path: string): number {
    return matchLength((this.conditions[index] as RouteConditions).matcher, path);
  }

  #accepts(index: number, method: string, rawHeaders: readonly string[]): boolean {
    if (!this.#conditional[index]) return true;
    const { methods, headers } = this.conditions[index] as RouteConditions;
    if (methods !== undefined && !methods.has(method)) return false;
    for (const [name, value] of headers) if (!hasHeader(rawHeaders, name, value)) return false;
    return true;
  }
}
