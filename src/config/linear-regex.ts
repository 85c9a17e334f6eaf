// `path_regex` patterns can never backtrack catastrophically. When the config is loaded, each
// pattern is compiled once on V8's linear-time regexp engine (the `l` flag): that engine refuses,
// at compile time, exactly the constructs that need backtracking — backreferences and
// lookaround — and that refusal is what a config load reports. At run time the pattern is
// matched by the ordinary engine (twenty times faster on the short paths routes see), with
// V8's fallback on: a match that backtracks more than V8's limit (50,000 steps) is finished on
// the linear engine, which can run every pattern that passed the load check. So `(a+)+$`,
// `(a|a)*` or `.*.*.*x` on a hostile path cost milliseconds at worst, never seconds. The flags
// change nothing else: the `l` flag is ours alone, and the fallback only acts on a match
// already past 50,000 backtracks.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** Why `source` is refused as a `path_regex`, in words for the config error; undefined when it is fine. */
export function pathRegexProblem(source: string): string | undefined {
  try {
    new RegExp(source, 'l');
    return undefined;
  } catch (err) {
    const reason = (err as Error).message;
    if (reason.includes('linear time')) {
      return 'needs backtracking (a backreference or a lookahead/lookbehind), which could make one request cost seconds; rewrite it without them';
    }
    return `is not a valid regular expression: ${reason.replace(/^Invalid regular expression: /, '')}`;
  }
}

/** A pattern that passed pathRegexProblem, for matching requests. */
export function compilePathRegex(source: string): RegExp {
  return new RegExp(source);
}
