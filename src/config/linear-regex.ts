// `path_regex` patterns run on V8's linear-time regexp engine (the `l` flag): matching costs
// time proportional to the path whatever the pattern, so no pattern can backtrack
// catastrophically (`(a+)+$`, `(a|a)*`, `.*.*.*x`). The engine refuses, when the pattern is
// compiled, exactly the constructs that need backtracking — backreferences and lookaround —
// and that refusal is what a config load reports. The engine sits behind a V8 flag; it only
// changes what the `l` flag means, so setting it affects no other regular expression.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine');

/** The compiled pattern, or why it is refused, in words for the config error. */
export function compileLinearRegex(source: string): RegExp | string {
  try {
    return new RegExp(source, 'l');
  } catch (err) {
    const reason = (err as Error).message;
    if (reason.includes('linear time')) {
      return 'needs backtracking (a backreference or a lookahead/lookbehind), which could make one request cost seconds; rewrite it without them';
    }
    return `is not a valid regular expression: ${reason.replace(/^Invalid regular expression: /, '')}`;
  }
}
