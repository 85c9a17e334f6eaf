// A route's `request_headers` / `response_headers`, compiled once per generation into a set of
// names to drop and a flat list to append, then applied to raw [name, value, …] arrays. The
// config refuses rules on the headers the proxy owns, so a rule can never undo them.
import type { HeaderRulesConfig } from '../../config/routes-schema.ts';

export interface HeaderRules {
  /** Lower-case names removed: `remove` plus every `set` name (set = replace). */
  readonly drop: ReadonlySet<string>;
  /** Appended after the drop: `set` values, then `add` values, as name/value pairs. */
  readonly append: readonly string[];
}

export function compileHeaderRules(config: HeaderRulesConfig | undefined): HeaderRules | undefined {
  if (config === undefined) return undefined;
  const drop = new Set(config.remove.map((n) => n.toLowerCase()));
  const append: string[] = [];
  for (const [name, value] of Object.entries(config.set)) {
    drop.add(name.toLowerCase());
    append.push(name.toLowerCase(), value);
  }
  for (const [name, value] of Object.entries(config.add)) append.push(name.toLowerCase(), value);
  return drop.size === 0 && append.length === 0 ? undefined : { drop, append };
}

/** `headers` with the rules applied; the input array is not changed. */
export function applyHeaderRules(headers: readonly string[], rules: HeaderRules): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!rules.drop.has(name.toLowerCase())) out.push(name, headers[i + 1] as string);
  }
  for (const item of rules.append) out.push(item);
  return out;
}
