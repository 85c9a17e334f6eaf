// What the master and the workers know about their commands, in one shape: a table of entries
// with a usage line, a one-line description and an optional longer text. `help`,
// `help <command>`, dispatch and the "did you mean" suggestions all read the same table, so a
// command added to a table is listed, explained, found and suggested without more code.

export interface CommandSpec {
  /** `show info`, `help [<command>]`: fixed words, then any `<placeholder>` or `[optional]` arguments. */
  usage: string;
  /** One line for `help`. */
  description: string;
  /** A few lines for `help <command>`: what it does, what it prints, when to use it. */
  details?: string;
}

/** The fixed words of a usage line: everything before the first argument placeholder. */
function commandWords(usage: string): string[] {
  const words = usage.split(' ');
  const firstArgument = words.findIndex((w) => w.startsWith('<') || w.startsWith('['));
  return firstArgument === -1 ? words : words.slice(0, firstArgument);
}

const takesArguments = (spec: CommandSpec) => commandWords(spec.usage).length < spec.usage.split(' ').length;

/**
 * The entry a command line names, and the words after its fixed ones. The longest match wins
 * (`show info json` before `show info`); an entry without placeholders takes no extra words.
 */
export function findCommand<T extends CommandSpec>(table: readonly T[], command: string): { entry: T; args: string[] } | undefined {
  const words = command.split(' ');
  let best: { entry: T; args: string[] } | undefined;
  let bestLength = 0;
  for (const entry of table) {
    const fixed = commandWords(entry.usage);
    if (fixed.length <= bestLength || fixed.length > words.length) continue;
    if (!fixed.every((w, i) => w === words[i])) continue;
    const args = words.slice(fixed.length);
    if (args.length > 0 && !takesArguments(entry)) continue;
    best = { entry, args };
    bestLength = fixed.length;
  }
  return best;
}

const HELP_COLUMN = 38;

function helpLine(spec: CommandSpec): string {
  return `  ${spec.usage.padEnd(HELP_COLUMN)}: ${spec.description}\n`;
}

export function formatHelp(entries: readonly CommandSpec[]): string {
  return `The following commands are valid at this level:\n${entries.map(helpLine).join('')}`;
}

/**
 * `help <words>`: the long help of the command those words name, or the one-line help of every
 * command they begin (`help show`); undefined when they name nothing.
 */
export function formatCommandHelp(entries: readonly (CommandSpec & { level?: string })[], query: string): string | undefined {
  const exact = entries.filter((e) => commandWords(e.usage).join(' ') === query || e.usage === query);
  if (exact.length > 0) {
    return exact
      .map((e) => {
        const level = e.level === undefined ? '' : ` (level ${e.level})`;
        const details = e.details === undefined ? '' : `\n${e.details.replace(/^/gm, '  ')}\n`;
        return `usage: ${e.usage}${level}\n  ${e.description}\n${details}`;
      })
      .join('\n');
  }
  const words = query.split(' ');
  const begun = entries.filter((e) => words.every((w, i) => commandWords(e.usage)[i] === w));
  return begun.length > 0 ? begun.map(helpLine).join('') : undefined;
}

/** Edit distance with adjacent transpositions (`relaod` is one edit from `reload`). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** Suggestions are at most this many, closest first. */
const MAX_SUGGESTIONS = 5;

/**
 * How far a typed command is from an entry, word by word over the entry's fixed words, or
 * undefined when it is too far to be a plausible typo: each word may be off by about a third
 * of its length (at least one edit), and a missing or extra word counts as a whole word.
 */
function distanceTo(typed: string[], fixed: string[]): number | undefined {
  let total = 0;
  for (let i = 0; i < Math.max(typed.length, fixed.length); i++) {
    const a = typed[i];
    const b = fixed[i];
    if (a === undefined) {
      // A command given only in part (`show`) is close to every command it begins.
      return i > 0 ? total + 1 : undefined;
    }
    if (b === undefined) {
      total += 1; // a word too many (`status now`)
      continue;
    }
    const d = editDistance(a, b);
    if (d > Math.max(1, Math.floor(b.length / 3))) return undefined;
    total += d;
  }
  return total;
}

/** The entries closest to an unknown command, as HAProxy suggests them, closest first. */
export function suggestCommands<T extends CommandSpec>(entries: readonly T[], command: string): T[] {
  const typed = command.split(' ');
  const scored: { entry: T; distance: number }[] = [];
  for (const entry of entries) {
    const fixed = commandWords(entry.usage);
    // Extra words after a known command (`show proc now`) are judged on the command's own words.
    const distance = distanceTo(typed.length > fixed.length && takesArguments(entry) ? typed.slice(0, fixed.length) : typed, fixed);
    if (distance !== undefined) scored.push({ entry, distance });
  }
  if (scored.length > 0) {
    return scored
      .sort((a, b) => a.distance - b.distance)
      .slice(0, MAX_SUGGESTIONS)
      .map((s) => s.entry);
  }
  // Nothing close, but the first word is right (`show everything`): the commands it begins.
  return entries.filter((e) => commandWords(e.usage).length > 1 && commandWords(e.usage)[0] === typed[0]).slice(0, MAX_SUGGESTIONS);
}

/** The text an interactive session shows after an `unknown command` reply; '' when nothing is close. */
export function formatSuggestions(suggestions: readonly CommandSpec[]): string {
  if (suggestions.length === 0) return '';
  return `Unknown command, but maybe one of the following ones is a better match:\n${suggestions.map(helpLine).join('')}`;
}
