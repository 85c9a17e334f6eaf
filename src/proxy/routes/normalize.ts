// The copy of a request path that routes are matched on, normalised the way nginx does before
// `location` matching, so `/api/../admin` or `/%61dmin` cannot slip past a route written for
// `/admin`: %-escapes of unreserved characters decoded (others upper-cased), `//` merged, `.`
// and `..` segments resolved. Most paths need none of it and are returned as they are.

/** Anything that normalisation could change: a `%`, a `//`, or a `.`/`..` segment. */
const NEEDS_WORK = /%|\/\/|\/\.\.?(\/|$)/;

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e
  );
}

export function normalizePath(path: string): string {
  if (path.charCodeAt(0) !== 0x2f /* / */ || !NEEDS_WORK.test(path)) return path;
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const code = Number.parseInt(hex, 16);
    return isUnreserved(code) ? String.fromCharCode(code) : escape.toUpperCase();
  });
  const segments = decoded.split('/');
  const out: string[] = [];
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === '..') {
      out.pop();
      if (last) out.push('');
    } else if (segment === '.' || (segment === '' && !last)) {
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  }
  return `/${out.join('/')}`;
}
