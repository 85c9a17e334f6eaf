// The literal text every match of an anchored `path_regex` starts with: `^/v[0-9]+/` → `/v`.
// A path that does not start with it cannot match, and the route walk skips the regex without
// running it (route-matcher.ts). Only what is certain counts: a pattern that is not anchored,
// or has an alternation anywhere (`^/a|/b`), has no such prefix, and the run stops at the first
// character with a meaning of its own. Works on RegExp.source too, which writes `/` as `\/`.

const SPECIAL = new Set(['^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);
const WORD = /[A-Za-z0-9_]/;

export function regexLiteralPrefix(source: string): string {
  if (!source.startsWith('^') || source.includes('|')) return '';
  const literal: string[] = [];
  let at = 1;
  for (; at < source.length; at++) {
    const char = source[at] as string;
    if (char === '\\') {
      // `\.` or `\/` is the character itself; `\d`, `\b`, `\1`, `\x41`… are not.
      const next = source[at + 1];
      if (next === undefined || WORD.test(next)) break;
      literal.push(next);
      at++;
    } else if (SPECIAL.has(char)) break;
    else literal.push(char);
  }
  // `?`, `*` and `{` can make the run's last character absent (`+` cannot).
  const next = source[at];
  if (next === '?' || next === '*' || next === '{') literal.pop();
  return literal.join('');
}
