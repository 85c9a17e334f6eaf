// The routes of a site validated without zod, for the common case where every route is valid:
// zod spends ~8 µs on a route, and a 1,000-site config has 20,000 of them. This accepts only
// routes that routeSchema (routes-schema.ts) accepts, and builds exactly what routeSchema
// would output; anything else — a wrong value, a rare key, a TOML date where a string goes —
// is answered undefined, and the caller validates with zod, which words every error. So the
// messages never depend on this module. test/config-routes-plain.test.ts holds it to zod.
import {
  ABSOLUTE_URL,
  CR_LF_NUL,
  DEFAULT_RESPOND_CONTENT_TYPE,
  MAX_PATH_REGEX_LENGTH,
  MAX_RESPOND_BODY_BYTES,
  METHOD,
  NAME,
  REDIRECT_STATUSES,
  upstreamTarget,
  type HeaderRulesConfig,
  type RouteConfig,
} from './routes-schema.ts';
import { rateLimitSchema } from './fields.ts';
import { pathRegexProblem } from './linear-regex.ts';
import { HEADER_NAME, headerRuleProblem } from './managed-headers.ts';

const REDIRECT_STATUS_SET: ReadonlySet<number> = new Set(REDIRECT_STATUSES);

type Table = Record<string, unknown>;

/** A TOML table (or a plain object): not a list, not a date. */
function isTable(value: unknown): value is Table {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

function onlyKeys(table: Table, allowed: readonly string[]): boolean {
  for (const key in table) if (!allowed.includes(key)) return false;
  return true;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isPath = (v: unknown): v is string => isString(v) && v.startsWith('/');
const isSeconds = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isHeaderValue = (v: unknown): v is string => isString(v) && !CR_LF_NUL.test(v);

/** A table of header name → value, copied into a plain object; undefined when a name or value is wrong. */
function headerTable(value: unknown, name: (header: string) => boolean): Record<string, string> | undefined {
  if (!isTable(value)) return undefined;
  const out: Record<string, string> = {};
  for (const header in value) {
    const v = value[header];
    if (!name(header) || !isString(v)) return undefined;
    out[header] = v;
  }
  return out;
}

function headerRules(value: unknown, side: 'request' | 'response'): HeaderRulesConfig | undefined {
  if (!isTable(value) || !onlyKeys(value, ['set', 'add', 'remove'])) return undefined;
  const allowed = (header: string) => headerRuleProblem(side, header) === undefined;
  const ruleTable = (v: unknown) => (v === undefined ? {} : headerTable(v, allowed));
  const set = ruleTable(value['set']);
  const add = ruleTable(value['add']);
  const remove = value['remove'] ?? [];
  if (set === undefined || add === undefined || !Array.isArray(remove) || !remove.every((h) => isString(h) && allowed(h))) return undefined;
  if (!Object.values(set).every(isHeaderValue) || !Object.values(add).every(isHeaderValue)) return undefined;
  return { set, add, remove: [...remove] };
}

function redirect(value: unknown): RouteConfig['redirect'] {
  if (!isTable(value) || !onlyKeys(value, ['to', 'status', 'keep_path'])) return undefined;
  const { to, status = 302, keep_path = false } = value;
  if (!isString(to) || !(to.startsWith('/') || ABSOLUTE_URL.test(to)) || CR_LF_NUL.test(to)) return undefined;
  if (typeof status !== 'number' || !REDIRECT_STATUS_SET.has(status) || typeof keep_path !== 'boolean') return undefined;
  return { to, status: status as (typeof REDIRECT_STATUSES)[number], keep_path };
}

function respond(value: unknown): RouteConfig['respond'] {
  if (!isTable(value) || !onlyKeys(value, ['status', 'body', 'content_type'])) return undefined;
  const { status, body = '', content_type = DEFAULT_RESPOND_CONTENT_TYPE } = value;
  if (typeof status !== 'number' || !Number.isSafeInteger(status) || status < 200 || status > 599) return undefined;
  if (!isString(body) || Buffer.byteLength(body) > MAX_RESPOND_BODY_BYTES || !isHeaderValue(content_type)) return undefined;
  return { status, body, content_type };
}

/** `upstream` as routeSchema outputs it: a group name is common and cheap; URLs go through the zod field. */
function upstream(value: unknown): string[] | undefined {
  if (isString(value) && NAME.test(value)) return [value];
  const parsed = upstreamTarget.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

const isName = (v: unknown) => isString(v) && NAME.test(v);
const isRegex = (v: unknown) => isString(v) && v.length > 0 && v.length <= MAX_PATH_REGEX_LENGTH;
const isMethods = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((m) => isString(m) && METHOD.test(m));
const isBoolean = (v: unknown) => typeof v === 'boolean';
const isByteCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** What each key of a route becomes when its value is plainly valid (undefined when it is not). */
const FIELDS: ReadonlyMap<string, (v: unknown) => unknown> = new Map<string, (v: unknown) => unknown>([
  ['name', (v) => (isName(v) ? v : undefined)],
  ['path', (v) => (isPath(v) ? v : undefined)],
  ['path_prefix', (v) => (isPath(v) ? v : undefined)],
  ['path_regex', (v) => (isRegex(v) ? v : undefined)],
  ['methods', (v) => (isMethods(v) ? [...(v as string[])] : undefined)],
  ['match_headers', (v) => headerTable(v, (h) => HEADER_NAME.test(h))],
  ['upstream', upstream],
  ['strip_prefix', (v) => (isBoolean(v) ? v : undefined)],
  ['rewrite_prefix', (v) => (isPath(v) ? v : undefined)],
  ['redirect', redirect],
  ['respond', respond],
  ['request_headers', (v) => headerRules(v, 'request')],
  ['response_headers', (v) => headerRules(v, 'response')],
  ['connect_timeout_secs', (v) => (isSeconds(v) ? v : undefined)],
  ['request_timeout_secs', (v) => (isSeconds(v) ? v : undefined)],
  ['body_limit_bytes', (v) => (isByteCount(v) ? v : undefined)],
  ['rate_limit', (v) => rateLimitSchema.safeParse(v).data],
  ['preserve_host', (v) => (isBoolean(v) ? v : undefined)],
  ['via', (v) => (isBoolean(v) ? v : undefined)],
]);

/** `input` as routeSchema outputs it when routeSchema accepts it; undefined when it might not. */
export function plainlyValidRoute(input: unknown): RouteConfig | undefined {
  if (!isTable(input)) return undefined;
  // One pass over the keys written (a route has a few of the nineteen); `strip_prefix` has a default.
  const out: Record<string, unknown> = { strip_prefix: false };
  for (const key in input) {
    const valid = FIELDS.get(key)?.(input[key]);
    if (valid === undefined) return undefined;
    out[key] = valid;
  }
  const route = out as RouteConfig;
  return withinRouteRules(route) ? route : undefined;
}

/** routeSchema's rules across a route's keys (its superRefine), all of which must hold. */
function withinRouteRules(route: RouteConfig): boolean {
  const matchers = [route.path, route.path_prefix, route.path_regex].filter((m) => m !== undefined).length;
  const actions = [route.upstream, route.redirect, route.respond].filter((a) => a !== undefined).length;
  const rewrites = route.strip_prefix || route.rewrite_prefix !== undefined;
  if (matchers > 1 || actions > 1 || (route.strip_prefix && route.rewrite_prefix !== undefined)) return false;
  if (rewrites && (route.path_regex !== undefined || route.redirect !== undefined || route.respond !== undefined)) return false;
  return route.path_regex === undefined || pathRegexProblem(route.path_regex) === undefined;
}

/**
 * `site` (a `[[sites]]` entry as parsed) for zod to validate, with its routes left out when they
 * are all plainly valid; and those routes, for the caller to put back into zod's output
 * (undefined when zod validates them itself).
 */
export function withoutPlainRoutes(site: unknown): { forZod: unknown; routes: RouteConfig[] | undefined } {
  const routes = isTable(site) ? plainlyValidRoutes(site['routes']) : undefined;
  return { forZod: routes === undefined ? site : { ...(site as Table), routes: [] }, routes };
}

/** A site's `routes` as routeSchema outputs them, or undefined when any of them needs zod's verdict. */
export function plainlyValidRoutes(input: unknown): RouteConfig[] | undefined {
  if (input === undefined) return [];
  if (!Array.isArray(input)) return undefined;
  const routes: RouteConfig[] = [];
  for (const entry of input) {
    const route = plainlyValidRoute(entry);
    if (route === undefined) return undefined;
    routes.push(route);
  }
  return routes;
}
