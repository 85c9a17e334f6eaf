// The parts of a config document that are valid on their own, so the rules across entries
// (duplicate hosts, two defaults, a socket used twice) can run even when some field elsewhere
// is wrong, and `check` reports every problem of a file in one pass, as `nginx -t` does.
import type * as z from 'zod';
import { parse } from 'smol-toml';
import { adminSocketSchema, certificateSchema, configObject, listenerSchema, siteSchema, tlsShorthand, type Config } from './schema.ts';
import { upstreamGroupSchema } from './routes-schema.ts';

/** List keys whose entries are checked one by one: a broken entry leaves a hole, not a gap. */
const ENTRY_SCHEMAS = { sites: siteSchema, listeners: listenerSchema, admin_sockets: adminSocketSchema, upstreams: upstreamGroupSchema, certificates: certificateSchema } as const;

/**
 * A Config made of the valid parts of `document`: each top-level key as written when it is
 * valid, else its default; each entry of a list as written when it is valid, else a hole.
 * An entry with a wrong field counts without that field when it is still valid then, so a site
 * with a bad timeout still takes part in the duplicate-host rule. Holes keep every entry at its index in the file (forEach and map skip them), so a rule that
 * names `sites[3]` names the right one.
 */
export function validParts(document: Record<string, unknown>): Config {
  const parts: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(configObject.shape)) {
    const value = document[key];
    const entrySchema = ENTRY_SCHEMAS[key as keyof typeof ENTRY_SCHEMAS];
    if (entrySchema !== undefined && Array.isArray(value)) {
      const entries: unknown[] = new Array(value.length);
      value.forEach((entry, i) => {
        const valid = validEntry(entrySchema, entry);
        if (valid !== undefined) entries[i] = valid;
      });
      parts[key] = entries;
      continue;
    }
    const parsed = schema.safeParse(value);
    parts[key] = parsed.success ? parsed.data : schema.safeParse(undefined).data;
  }
  return parts as Config;
}

/** The entry as parsed, else parsed without the keys that were wrong, else undefined. */
function validEntry(schema: z.ZodType, entry: unknown): unknown {
  const parsed = schema.safeParse(entry);
  if (parsed.success) return parsed.data;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const wrong = new Set<PropertyKey>();
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') issue.keys.forEach((k) => wrong.add(k));
    else if (issue.path.length > 0) wrong.add(issue.path[0]!);
  }
  if (wrong.size === 0) return undefined;
  const rest = schema.safeParse(Object.fromEntries(Object.entries(entry).filter(([key]) => !wrong.has(key))));
  return rest.success ? rest.data : undefined;
}

/**
 * The valid parts of a config's text shaped as the full schema shapes them (a listener's
 * tls_cert/tls_key become a certificate entry that knows its key path), for the checks of the
 * files it references; undefined when the text is not TOML at all.
 */
export function validPartsOfSource(source: string): Config | undefined {
  let document: unknown;
  try {
    document = parse(source);
  } catch {
    return undefined;
  }
  const shaped = tlsShorthand(validParts(document as Record<string, unknown>) as Parameters<typeof tlsShorthand>[0]);
  // Certificates are found by the key path each carries, not by index: broken ones are dropped.
  return { ...shaped, certificates: shaped.certificates.filter((c) => c?.cert !== undefined) } as Config;
}
