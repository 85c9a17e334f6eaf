// Turns TOML text into a validated Config, or a ConfigInvalidError listing every problem with
// its line. `check`, start-up and reload all go through parseConfig so they agree exactly.
import { parse, TomlError } from 'smol-toml';
import type * as z from 'zod';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';
import { formatKeyPath, indexLines, lineOf, type KeyPath } from './locate.ts';
import { validParts } from './partial.ts';
import { withoutPlainRoutes } from './routes-plain.ts';
import { routeCrossChecks } from './routes-validate.ts';
import { siteName } from './site-name.ts';

interface RawProblem {
  path: KeyPath;
  message: string;
}

export function parseConfig(source: string, file: string): Config {
  // An empty file is valid TOML meaning "no sites", but it is nearly always a file caught
  // truncated or rendered from nothing; loading it would answer every request with 404.
  if (source.trim() === '') throw new ConfigInvalidError(file, [{ key: '', message: 'is empty; a config needs at least its [[sites]]' }]);
  let document: unknown;
  try {
    document = parse(source);
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new ConfigInvalidError(file, [{ key: '', line: err.line, message: `TOML syntax error at column ${err.column}: ${reason}` }]);
    }
    throw err;
  }

  const result = validateDocument(document as Record<string, unknown>);
  const raw: RawProblem[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) raw.push({ path: [...issue.path, key] as KeyPath, message: `unknown key "${key}"` });
      } else {
        raw.push({ path: issue.path as KeyPath, message: issue.message });
      }
    }
  }
  raw.push(...crossEntryProblems(result.success ? result.data : validParts(document as Record<string, unknown>)));
  if (raw.length === 0 && result.success) return result.data;

  const index = indexLines(source);
  const problems: ConfigProblem[] = raw.map((p) => {
    const line = lineOf(index, p.path);
    return line === undefined ? { key: formatKeyPath(p.path), message: p.message } : { key: formatKeyPath(p.path), line, message: p.message };
  });
  // In file order, as a person fixes them: field errors and cross-entry ones interleaved.
  throw new ConfigInvalidError(file, problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
}

/**
 * configSchema on the document, with the routes of each site whose routes are all plainly valid
 * (routes-plain.ts) kept out of zod, which spends most of a large config's time on them: those
 * routes have no issues either way, so the result and the issues are zod's on the whole.
 */
function validateDocument(document: Record<string, unknown>) {
  const sites = document['sites'];
  if (!Array.isArray(sites)) return configSchema.safeParse(document, { error: describeIssue });
  const split = sites.map(withoutPlainRoutes);
  const result = configSchema.safeParse({ ...document, sites: split.map((s) => s.forZod) }, { error: describeIssue });
  if (result.success) result.data.sites.forEach((site, i) => (site.routes = split[i]!.routes ?? site.routes));
  return result;
}

/**
 * The rules across entries. On a file with field errors they run on its valid parts
 * (partial.ts), where a rule written for a whole Config may meet a hole it does not expect:
 * then the field errors alone are reported, as before, rather than a crash.
 */
export function crossEntryProblems(config: Config): RawProblem[] {
  try {
    return [...crossChecks(config), ...routeCrossChecks(config)];
  } catch (err) {
    if (err instanceof TypeError) return [];
    throw err;
  }
}

/** Legal but almost certainly not meant: reported by `check` as warnings, never refused. */
export function configWarnings(config: Config): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  if (config.sites.length === 0) warnings.push({ key: '', message: 'has no [[sites]]: every request will be answered 404' });
  return warnings;
}

/** Plain-words messages for zod's built-in checks; custom checks already carry their own. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `is required (a ${issue.expected})`;
    return `must be a ${issue.expected}, not ${describeValue(issue.input)}`;
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a table';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Rules that involve more than one key. */
function crossChecks(config: Config): RawProblem[] {
  const problems: RawProblem[] = [];

  const hostOwner = new Map<string, number>();
  let defaultSite: number | undefined;
  config.sites.forEach((site, i) => {
    for (const host of site.host ?? []) {
      const owner = hostOwner.get(host);
      if (owner !== undefined) problems.push({ path: ['sites', i, 'host'], message: `host "${host}" is already served by sites[${owner}]` });
      else hostOwner.set(host, i);
    }
    if (site.default) {
      if (defaultSite !== undefined) problems.push({ path: ['sites', i, 'default'], message: `only one site can be the default; sites[${defaultSite}] already is` });
      else defaultSite = i;
    }
  });

  // Names label metrics series: two sites under one name would add up into one.
  const nameOwner = new Map<string, number>();
  config.sites.forEach((site, i) => {
    const name = siteName(site);
    const owner = nameOwner.get(name);
    if (owner !== undefined) problems.push({ path: ['sites', i, site.name === undefined ? 'host' : 'name'], message: `site name "${name}" is already used by sites[${owner}]; set a distinct "name"` });
    else nameOwner.set(name, i);
  });

  const socketPaths = new Map<string, string>();
  const checkSocket = (path: KeyPath, socketPath: string) => {
    const owner = socketPaths.get(socketPath);
    if (owner !== undefined) problems.push({ path, message: `socket "${socketPath}" is already used by ${owner}` });
    socketPaths.set(socketPath, formatKeyPath(path));
  };
  if (config.admin_socket_path !== '') checkSocket(['admin_socket_path'], config.admin_socket_path);
  config.admin_sockets.forEach((s, i) => checkSocket(['admin_sockets', i, 'path'], s.path));

  const listenerKeys = new Map<string, number>();
  config.listeners.forEach((l, i) => {
    const key = `${l.address}:${l.port}`;
    const owner = listenerKeys.get(key);
    if (owner !== undefined && l.port !== 0) problems.push({ path: ['listeners', i], message: `${key} is already used by listeners[${owner}]` });
    else listenerKeys.set(key, i);
  });
  return problems;
}
