// Maps a key path inside a parsed TOML document back to the line it was written on, so that
// validation errors can say `config.toml:12`. TOML parsers do not keep positions, so this reads
// the source line by line and tracks table headers; it is best-effort and only used for messages.

export type KeyPath = readonly (string | number)[];

export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

const HEADER = /^\s*(\[\[?)\s*([A-Za-z0-9_.\-"' ]+?)\s*\]\]?\s*(#.*)?$/;
const ASSIGNMENT = /^\s*([A-Za-z0-9_\-"'.]+)\s*=/;

function splitDotted(key: string): string[] {
  return key.split('.').map((k) => k.trim().replace(/^["']|["']$/g, ''));
}

/** Builds `formatted key path -> line` for every header and assignment in the source. */
export function indexLines(source: string): Map<string, number> {
  const lines = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table: string[] = [];

  const resolve = (names: string[]): string[] => {
    // `[sites.rate_limit]` after `[[sites]]` belongs to the last sites entry.
    const out: string[] = [];
    for (const name of names) {
      out.push(name);
      const prefix = formatKeyPath(out);
      const count = arrayCounts.get(prefix);
      if (count !== undefined) out[out.length - 1] = `${name}[${count - 1}]`;
    }
    return out;
  };

  source.split(/\r?\n/).forEach((text, i) => {
    const lineNo = i + 1;
    const header = HEADER.exec(text);
    if (header) {
      const names = splitDotted(header[2]!);
      if (header[1] === '[[') {
        const parent = resolve(names.slice(0, -1));
        const key = formatKeyPath([...parent, names[names.length - 1]!]);
        const count = (arrayCounts.get(key) ?? 0) + 1;
        arrayCounts.set(key, count);
        table = [...parent, `${names[names.length - 1]}[${count - 1}]`];
      } else {
        table = resolve(names);
      }
      const tableKey = table.join('.');
      if (!lines.has(tableKey)) lines.set(tableKey, lineNo);
      return;
    }
    const assignment = ASSIGNMENT.exec(text);
    if (assignment) {
      const key = [...table, ...splitDotted(assignment[1]!)].join('.');
      if (!lines.has(key)) lines.set(key, lineNo);
    }
  });
  return lines;
}

/** The line of the deepest part of `path` that appears in the source, if any. */
export function lineOf(index: Map<string, number>, path: KeyPath): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const line = index.get(formatKeyPath(path.slice(0, n)));
    if (line !== undefined) return line;
  }
  return undefined;
}
