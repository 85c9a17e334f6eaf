// Parsing a config whose sites mostly did not change since the last load: each `[[sites]]`
// block (site-blocks.ts) is parsed and validated only when its exact text is new; the others
// are the validated sites of the last load, found by their text. The rest of the file is small
// and parsed every time, and the rules across entries run over the whole set every time.
//
// Anything out of the ordinary — a text the cutter will not cut, a block or rule that fails —
// goes to parseConfig on the whole text, which is what decides and words every error. So the
// result, or the error, is always the one a load without cache gives.
import { createHash } from 'node:crypto';
import { parse } from 'smol-toml';
import { configSchema, siteSchema, type Config, type SiteConfig } from './schema.ts';
import { plainlyValidRoutes } from './routes-plain.ts';
import { cutSiteBlocks } from './site-blocks.ts';
import { crossEntryProblems, parseConfig } from './validate.ts';

interface CachedSite {
  readonly site: SiteConfig;
  /** Content key of the block's text, for workers to find a site they already hold. */
  readonly key: string;
}

export interface SiteReuse {
  /** Blocks parsed and validated by this load. */
  parsed: number;
  /** Blocks whose validated site came from the last load. */
  reused: number;
}

export interface CachedParse {
  config: Config;
  /** Content key of each site, in `config.sites` order; absent when the file was parsed whole. */
  siteKeys: string[] | undefined;
  /** Absent when the file was parsed whole. */
  reuse: SiteReuse | undefined;
  /** Makes this parse's sites the cache for the next load (call once the load succeeded). */
  commit(): void;
}

/** 144 bits of SHA-256: a block's text, not its position, names it. */
function contentKey(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 24);
}

/** Validated sites by the exact text of their block, as of the last successful load. */
export class SiteCache {
  #byText = new Map<string, CachedSite>();

  /** How many sites it holds: those of the last successful load, never more. */
  get size(): number {
    return this.#byText.size;
  }

  parse(source: string, file: string): CachedParse {
    const incremental = this.#parseBlocks(source);
    if (incremental !== undefined) return incremental;
    const config = parseConfig(source, file);
    return { config, siteKeys: undefined, reuse: undefined, commit: () => (this.#byText = new Map()) };
  }

  #parseBlocks(source: string): CachedParse | undefined {
    if (source.trim() === '') return undefined;
    const cut = cutSiteBlocks(source);
    if (cut === undefined) return undefined;
    let restDocument: Record<string, unknown>;
    try {
      restDocument = parse(cut.rest);
    } catch {
      return undefined;
    }
    if ('sites' in restDocument) return undefined;
    const rest = configSchema.safeParse(restDocument);
    if (!rest.success) return undefined;

    const next = new Map<string, CachedSite>();
    const sites: SiteConfig[] = [];
    const siteKeys: string[] = [];
    const reuse: SiteReuse = { parsed: 0, reused: 0 };
    for (const block of cut.sites) {
      let entry = this.#byText.get(block);
      if (entry !== undefined) reuse.reused++;
      else {
        const site = parseSiteBlock(block);
        if (site === undefined) return undefined;
        entry = { site, key: contentKey(block) };
        reuse.parsed++;
      }
      next.set(block, entry);
      sites.push(entry.site);
      siteKeys.push(entry.key);
    }
    const config: Config = { ...rest.data, sites };
    if (crossEntryProblems(config).length > 0) return undefined;
    return { config, siteKeys, reuse, commit: () => (this.#byText = next) };
  }
}

/** The validated site a block holds, or undefined when it is not one valid site. */
function parseSiteBlock(text: string): SiteConfig | undefined {
  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch {
    return undefined;
  }
  const entries = document['sites'];
  if (!Array.isArray(entries) || entries.length !== 1 || Object.keys(document).length !== 1) return undefined;
  const entry = entries[0] as Record<string, unknown>;
  // zod is the bulk of validating a site with many routes: routes that are plainly valid skip it.
  const routes = plainlyValidRoutes(entry['routes']);
  if (routes !== undefined) {
    const site = siteSchema.safeParse({ ...entry, routes: [] });
    return site.success ? { ...site.data, routes } : undefined;
  }
  const site = siteSchema.safeParse(entry);
  return site.success ? site.data : undefined;
}
