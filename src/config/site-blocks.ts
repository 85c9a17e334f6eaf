// Cuts a config's TOML text into its top-level `[[sites]]` blocks (each with the `[sites.…]` and
// `[[sites.routes]]` tables under it) and the rest, so a reload can parse and validate only the
// blocks whose text changed. Each block is a TOML document of its own that means exactly what
// it meant in the file: a block is a whole element of the `sites` array, and the rest holds no
// `sites` key. The scan knows strings (a `[[sites]]` line inside a multi-line string is text),
// comments and multi-line arrays; whatever it is not sure of makes it give up (undefined), and
// the caller parses the whole file as before.

interface CutConfig {
  /** Everything that is not a site block, in file order. */
  readonly rest: string;
  /** Each block's exact text, from its `[[sites]]` line up to the next table that is not the site's. */
  readonly sites: readonly string[];
  /** For each block, the index of the `previous` block it is exactly (found without scanning it), or -1. */
  readonly same: readonly number[];
}

const QUOTE = 0x22; // "
const APOSTROPHE = 0x27; // '
const BACKSLASH = 0x5c;
const HASH = 0x23;
const NEWLINE = 0x0a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const SPACE = 0x20;
const TAB = 0x09;

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * The dotted key of a table header line (`[a.b]` or `[[a."b"]]`), whether it is an array
 * table, or undefined when the line is not one this scan reads with certainty.
 */
function headerOf(line: string): { array: boolean; keys: string[] } | undefined {
  const m = /^\s*(\[\[?)([^\]#]*?)(\]\]?)\s*(#.*)?$/.exec(line);
  if (m === null || m[1]!.length !== m[3]!.length) return undefined;
  const keys: string[] = [];
  for (const raw of m[2]!.split('.')) {
    const part = raw.trim();
    // A quoted key with a dot, an escape or a bracket in it: not worth reading here.
    if (BARE_KEY.test(part)) keys.push(part);
    else if (/^"[^"\\]*"$/.test(part) || /^'[^']*'$/.test(part)) keys.push(part.slice(1, -1));
    else return undefined;
  }
  return { array: m[1] === '[[', keys };
}

type Header = NonNullable<ReturnType<typeof headerOf>>;

/** The headers a file has thousands of, read without making a string of the line. */
const COMMON_HEADERS: readonly (readonly [text: string, header: Header])[] = [
  ['[[sites.routes]]', { array: true, keys: ['sites', 'routes'] }],
  ['[[sites]]', { array: true, keys: ['sites'] }],
];

/** The header a line that is exactly one of COMMON_HEADERS (after its indentation) holds. */
function commonHeader(source: string, first: number, eol: number): Header | undefined {
  for (const [text, header] of COMMON_HEADERS) if (first + text.length === eol && source.startsWith(text, first)) return header;
  return undefined;
}

/** The characters the scan stops at; every other one is skipped in one comparison. */
const SPECIAL = new Uint8Array(128);
for (const c of [QUOTE, APOSTROPHE, HASH, NEWLINE, OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE]) SPECIAL[c] = 1;

/**
 * Index just after the string that opens at `i`, or -1 when it does not end (within its line,
 * for a one-line string). Up to two quotes after a closing `"""` belong to the string.
 */
function endOfString(source: string, i: number): number {
  const quote = source.charCodeAt(i);
  const escapes = quote === QUOTE;
  if (source.charCodeAt(i + 1) !== quote || source.charCodeAt(i + 2) !== quote) {
    for (let j = i + 1; j < source.length; j++) {
      const c = source.charCodeAt(j);
      if (c === quote) return j + 1;
      if (c === NEWLINE) return -1;
      if (escapes && c === BACKSLASH) j++;
    }
    return -1;
  }
  for (let j = i + 3; j < source.length; j++) {
    const c = source.charCodeAt(j);
    if (escapes && c === BACKSLASH) j++;
    else if (c === quote && source.charCodeAt(j + 1) === quote && source.charCodeAt(j + 2) === quote) {
      let end = j + 3;
      while (end < j + 5 && source.charCodeAt(end) === quote) end++;
      return end;
    }
  }
  return -1;
}

/** How much of a block's start tells most blocks apart (the header and the first key or two). */
const BLOCK_START = 64;

/**
 * `previous`: the blocks of the last cut of this file. A block starts in the state the scan has
 * at every block start (a line start, outside any string, array or table) and a block of the
 * last cut ended in that state too, so where the text at a block start is a whole previous
 * block, the scan of it would go exactly as before: it is skipped, and only the edited parts of
 * a file are scanned. The result is the same with or without `previous`.
 */
export function cutSiteBlocks(source: string, previous: readonly string[] = []): CutConfig | undefined {
  if (source.charCodeAt(0) === 0xfeff) return undefined;
  const n = source.length;
  const rest: string[] = [];
  const sites: string[] = [];
  const same: number[] = [];
  /** Start of the current segment, and whether it is a site block. */
  let segmentStart = 0;
  let inSite = false;
  let depth = 0;
  /** The previous block expected next (blocks mostly keep their order), and the one skipped over for the current block. */
  let expected = 0;
  let skipped = -1;

  const startSegment = (at: number, site: boolean) => {
    const text = source.slice(segmentStart, at);
    if (inSite) {
      sites.push(text);
      same.push(skipped >= 0 && text.length === previous[skipped]!.length ? skipped : -1);
    } else rest.push(text);
    segmentStart = at;
    inSite = site;
    skipped = -1;
  };

  // Ending with a newline, a previous block found in the text ends at a line start there too.
  // Compared as a slice with ===, not startsWith: V8's startsWith walks the characters one by
  // one, === compares the memory. On a 2 MB file of 1,000 sites: 10–20 ms a cut, against 1 ms.
  const isAt = (j: number, at: number) => previous[j] !== undefined && previous[j].endsWith('\n') && source.slice(at, at + previous[j].length) === previous[j];
  /** The previous blocks by their first characters, made when blocks were moved, added or removed. */
  let byStart: Map<string, number[]> | undefined;
  /** The previous block that the text at `at` starts with: most often the expected one or the one after it. */
  const previousBlockAt = (at: number) => {
    if (isAt(expected, at)) return expected;
    if (isAt(expected + 1, at)) return expected + 1;
    if (byStart === undefined) {
      byStart = new Map();
      previous.forEach((block, j) => {
        const start = block.slice(0, BLOCK_START);
        const list = byStart!.get(start);
        if (list === undefined) byStart!.set(start, [j]);
        else list.push(j);
      });
    }
    return byStart.get(source.slice(at, at + BLOCK_START))?.find((j) => isAt(j, at)) ?? -1;
  };

  let i = 0;
  while (i < n) {
    // At the start of a line: outside any array or table, a "[" opens a table header.
    if (depth === 0) {
      let first = i;
      while (source.charCodeAt(first) === SPACE || source.charCodeAt(first) === TAB) first++;
      if (source.charCodeAt(first) === OPEN_BRACKET) {
        let eol = source.indexOf('\n', first);
        if (eol < 0) eol = n;
        const header = commonHeader(source, first, eol) ?? headerOf(source.slice(i, eol));
        if (header === undefined) return undefined;
        const ofSites = header.keys[0] === 'sites';
        if (ofSites && header.array && header.keys.length === 1) {
          startSegment(i, true);
          const j = previousBlockAt(i);
          if (j >= 0) {
            // The block goes on if lines follow it before the next table: the scan resumes there.
            i += previous[j]!.length;
            skipped = j;
            expected = j + 1;
            continue;
          }
        }
        // `[sites.x]` outside a site block (after another table, or before any site).
        else if (ofSites && !inSite) return undefined;
        else if (!ofSites && inSite) startSegment(i, false);
        // A header line holds no string, bracket or comment the scan must follow further.
        i = eol + 1;
        continue;
      }
    }
    // The rest of the line, and of any string that goes on over the next lines.
    for (; i < n; i++) {
      const c = source.charCodeAt(i);
      if (c >= 128 || SPECIAL[c] === 0) continue;
      if (c === NEWLINE) break;
      if (c === QUOTE || c === APOSTROPHE) {
        const end = endOfString(source, i);
        if (end < 0) return undefined;
        i = end - 1;
      } else if (c === HASH) {
        const eol = source.indexOf('\n', i);
        i = (eol < 0 ? n : eol) - 1;
      } else if (c === OPEN_BRACKET || c === OPEN_BRACE) depth++;
      else if (--depth < 0) return undefined;
    }
    i++;
  }
  if (depth !== 0) return undefined;
  startSegment(n, false);
  return { rest: rest.join(''), sites, same };
}
