// A strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on
// anything Prometheus itself would reject (bad names, bad escapes, samples without a TYPE or of
// another family, duplicate series, histogram buckets that decrease or lack +Inf, a _count
// that differs from the +Inf bucket) so a test that parses a scrape checks its well-formedness.

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(lineNo: number, line: string, why: string): never {
  throw new Error(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

function parseValue(text: string, lineNo: number, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(lineNo, line, `bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` starting at `at` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, at: number, lineNo: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq < 0) fail(lineNo, line, 'label without "="');
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(lineNo, line, `bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(lineNo, line, `label ${name} twice`);
    if (line[eq + 1] !== '"') fail(lineNo, line, 'label value not quoted');
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = line[j];
      if (c === undefined) fail(lineNo, line, 'unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const next = line[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else fail(lineNo, line, `bad escape \\${next}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') fail(lineNo, line, 'expected "," or "}" after a label');
  }
  return { labels, end: i + 1 };
}

function familyOf(sampleName: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const exact = families.get(sampleName);
  if (exact) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const seen = new Set<string>();
  let current: ParsedFamily | undefined;
  text.split('\n').forEach((line, index) => {
    const lineNo = index + 1;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) fail(lineNo, line, 'bad metric name');
      let family = families.get(name);
      if (family && current !== family) fail(lineNo, line, `family ${name} appears twice`);
      if (!family) {
        family = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, family);
      }
      current = family;
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) fail(lineNo, line, `unknown type ${rest}`);
        if (family.samples.length > 0) fail(lineNo, line, 'TYPE after samples');
        family.type = rest as ParsedFamily['type'];
      } else {
        if (family.help !== undefined) fail(lineNo, line, 'HELP twice');
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) fail(lineNo, line, 'no metric name');
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) fail(lineNo, line, 'bad metric name');
    let labels: Record<string, string> = {};
    let rest = nameEnd;
    if (line[nameEnd] === '{') ({ labels, end: rest } = parseLabels(line, nameEnd, lineNo));
    if (line[rest] !== ' ') fail(lineNo, line, 'expected a space before the value');
    const parts = line.slice(rest + 1).split(' ');
    if (parts.length > 2 || parts[0] === '') fail(lineNo, line, 'expected a value and an optional timestamp');
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(lineNo, line, 'bad timestamp');
    const family = familyOf(name, families);
    if (!family) fail(lineNo, line, `sample of no declared family`);
    if (family !== current) fail(lineNo, line, `sample of ${family.name} outside its family's block`);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) fail(lineNo, line, 'duplicate series');
    seen.add(id);
    if (family.type === 'counter' && !name.endsWith('_total')) fail(lineNo, line, 'counter without _total');
    family.samples.push({ name, labels, value: parseValue(parts[0]!, lineNo, line) });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function checkHistogram(family: ParsedFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      group.buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), s.value]);
    } else if (s.name.endsWith('_count')) group.count = s.value;
    else if (s.name.endsWith('_sum')) group.sum = s.value;
    else throw new Error(`${family.name}: sample ${s.name} is not _bucket, _sum or _count`);
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    sorted.forEach(([, v], i) => {
      if (i > 0 && v < sorted[i - 1]![1]) throw new Error(`${family.name}${key}: buckets decrease`);
    });
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (g.count !== inf[1]) throw new Error(`${family.name}${key}: _count ${g.count} is not the +Inf bucket ${inf[1]}`);
    if (g.sum === undefined) throw new Error(`${family.name}${key}: no _sum`);
  }
}

/** The value of the one sample of `family` (or of its `_bucket`/`_count`/`_sum` name) whose labels include `labels`. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = familyOf(name, families);
  const matches = family?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) ?? [];
  if (matches.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} samples`);
  return matches[0]?.value;
}

/**
 * Every counter sample of `earlier` (histogram buckets, sums and counts included) that is
 * missing from `later` or lower there, as one line each: a scrape after another must show none.
 */
export function countersGoneBack(earlier: Map<string, ParsedFamily>, later: Map<string, ParsedFamily>): string[] {
  const problems: string[] = [];
  for (const family of earlier.values()) {
    if (family.type !== 'counter' && family.type !== 'histogram') continue;
    for (const sample of family.samples) {
      const id = `${sample.name}${JSON.stringify(sample.labels)}`;
      const now = later.get(family.name)?.samples.find((s) => s.name === sample.name && sameLabels(s.labels, sample.labels));
      if (now === undefined) problems.push(`${id} ${sample.value} is gone`);
      else if (now.value < sample.value) problems.push(`${id} went from ${sample.value} to ${now.value}`);
    }
  }
  return problems;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
