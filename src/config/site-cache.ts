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
import { withoutPlainRoutes } from './routes-plain.ts';
import { cutSiteBlocks } from './site-blocks.ts';
import { crossEntryProblems, parseConfig } from './validate.ts';

interface CachedSite {
  /** The block's exact text. */
  readonly text: string;
  readonly site: SiteConfig;
  /** Content key of the text, for workers to find a site they already hold (and this cache a block that moved). */
  readonly key: string;
}

/** The sites of one successful load: its blocks in file order, and the same by content key. */
interface LoadedSites {
  readonly blocks: readonly CachedSite[];
  readonly byKey: ReadonlyMap<string, CachedSite>;
}

const NO_SITES: LoadedSites = { blocks: [], byKey: new Map() };

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
  #last: LoadedSites = NO_SITES;

  /** How many sites it holds: those of the last successful load, never more. */
  get size(): number {
    return this.#last.byKey.size;
  }

  parse(source: string, file: string): CachedParse {
    const incremental = this.#parseBlocks(source);
    if (incremental !== undefined) return incremental;
    const config = parseConfig(source, file);
    return { config, siteKeys: undefined, reuse: undefined, commit: () => (this.#last = NO_SITES) };
  }

  #parseBlocks(source: string): CachedParse | undefined {
    if (source.trim() === '') return undefined;
    const cut = cutSiteBlocks(source, this.#last.blocks.map((b) => b.text));
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

    const blocks: CachedSite[] = [];
    const reuse: SiteReuse = { parsed: 0, reused: 0 };
    for (const [i, text] of cut.sites.entries()) {
      // The last load's site for this block: the one the cut found it to be, or one with the same text elsewhere.
      const same = this.#last.blocks[cut.same[i]!];
      const key = same?.key ?? contentKey(text);
      const moved = same === undefined ? this.#last.byKey.get(key) : undefined;
      let entry = same ?? (moved?.text === text ? moved : undefined);
      if (entry !== undefined) reuse.reused++;
      else {
        const site = parseSiteBlock(text);
        if (site === undefined) return undefined;
        entry = { text, site, key };
        reuse.parsed++;
      }
      blocks.push(entry);
    }
    const config: Config = { ...rest.data, sites: blocks.map((b) => b.site) };
    if (crossEntryProblems(config).length > 0) return undefined;
    const loaded: LoadedSites = { blocks, byKey: new Map(blocks.map((b) => [b.key, b])) };
    return { config, siteKeys: blocks.map((b) => b.key), reuse, commit: () => (this.#last = loaded) };
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
  // zod is the bulk of validating a site with many routes: routes that are plainly valid skip it.
  const { forZod, routes } = withoutPlainRoutes(entries[0]);
  const site = siteSchema.safeParse(forZod);
  if (!site.success) return undefined;
  return routes === undefined ? site.data : { ...site.data, routes };
}
