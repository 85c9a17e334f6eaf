// How one route matches a (normalised) path, and how much of it is the "prefix" that
// strip_prefix, rewrite_prefix and a redirect's keep_path work on.

export type PathMatcher =
  | { kind: 'any' }
  | { kind: 'exact'; path: string }
  /** `base` is the prefix without its trailing slash; `""` for `/`. */
  | { kind: 'prefix'; base: string }
  | { kind: 'regex'; regex: RegExp };

/** A path that starts with a prefix base of this length is taken on a segment boundary only: `/api` takes `/api/x`, never `/apix`. */
export function onSegmentBoundary(path: string, baseLength: number): boolean {
  return path.length === baseLength || path.charCodeAt(baseLength) === 0x2f /* / */;
}

/**
 * Length of the matched prefix of `path`, or -1 when it does not match. A prefix matches on
 * segment boundaries only: base `/api` takes `/api` and `/api/…`, never `/apix`.
 */
export function matchLength(matcher: PathMatcher, path: string): number {
  switch (matcher.kind) {
    case 'any':
      return 0;
    case 'exact':
      return path === matcher.path ? path.length : -1;
    case 'prefix': {
      const base = matcher.base;
      return path.startsWith(base) && onSegmentBoundary(path, base.length) ? base.length : -1;
    }
    case 'regex': {
      const found = matcher.regex.exec(path);
      return found === null ? -1 : found.index + found[0].length;
    }
  }
}

/** What follows the matched part, always empty or starting with "/". */
export function remainderAfter(path: string, length: number): string {
  const rest = path.slice(length);
  return rest === '' || rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}
