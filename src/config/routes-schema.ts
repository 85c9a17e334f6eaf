// The shape of `[[upstreams]]` groups and `[[sites.routes]]`. Rules that involve one route or
// one group are checked here; rules across entries (unknown group, duplicate names) live in
// routes-validate.ts, which runs on a file that already has the right shape.
import * as z from 'zod';
import { bodyLimitBytes, oneOrMany, positiveSeconds, rateLimitSchema, upstreamTlsShape, upstreamUrl } from './fields.ts';
import { pathRegexProblem } from './linear-regex.ts';
import { HEADER_NAME, headerRuleProblem } from './managed-headers.ts';
import { DEFAULT_RETRIES } from './upstream-groups.ts';

/** Longest `path_regex` accepted; a route pattern longer than this is a mistake, not a need. */
export const MAX_PATH_REGEX_LENGTH = 1_024;
/** Largest `respond.body`: a fixed response is a short answer, not a file server. */
export const MAX_RESPOND_BODY_BYTES = 64 * 1024;
/** Most servers in one `[[upstreams]]` group. */
const MAX_GROUP_SERVERS = 256;
/** Largest server `weight`; the hash ring holds a number of points proportional to it. */
const MAX_SERVER_WEIGHT = 256;
/** Most retries one request may make (`retries.attempts`). */
const MAX_RETRY_ATTEMPTS = 10;

/** Group and route names: they appear in logs and admin commands, so no blanks or separators. */
export const NAME = /^[A-Za-z0-9_-]+$/;
const NAME_RULE = 'letters, digits, "_" and "-"';
const name = z.string().regex(NAME, `must be made of ${NAME_RULE}`);

const upstreamEntry = z.string().transform((raw, ctx) => {
  if (!raw.includes('://')) {
    if (NAME.test(raw)) return raw;
    ctx.addIssue({ code: 'custom', message: `"${raw}" is not a URL (http://host:port) or the name of an [[upstreams]] group` });
    return z.NEVER;
  }
  const url = upstreamUrl.safeParse(raw);
  if (url.success) return url.data;
  for (const issue of url.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
  return z.NEVER;
});

/** A site's or route's `upstream`: one URL, a list of URLs, or the name of one group. */
export const upstreamTarget = oneOrMany(upstreamEntry).superRefine((list, ctx) => {
  if (list.length > 1 && list.some((entry) => !entry.includes('://'))) {
    ctx.addIssue({ code: 'custom', message: 'a group name must be the only entry; list URLs, or name one [[upstreams]] group' });
  }
});

// ---- [[upstreams]] ----------------------------------------------------------------------------

const serverSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { url: v } : v),
  z
    .object({
      url: upstreamUrl,
      weight: z.number().int().min(1, 'must be a whole number from 1').max(MAX_SERVER_WEIGHT, `must be at most ${MAX_SERVER_WEIGHT}`).default(1),
      backup: z.boolean().default(false),
    })
    .strict(),
);

const BALANCE_METHODS = ['round_robin', 'least_conn', 'random_two', 'hash'] as const;

const hashKey = z
  .string()
  .regex(/^(client_ip|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+|cookie:[A-Za-z0-9!#$%&'*+.^_`|~-]+)$/, 'must be "client_ip", "header:<name>" or "cookie:<name>"');

/** "200-399", "200,204", "200-299,304" → inclusive ranges. */
const expectStatus = z.string().transform((raw, ctx) => {
  const ranges: [number, number][] = [];
  for (const part of raw.split(',')) {
    const m = /^\s*([1-5][0-9]{2})(?:\s*-\s*([1-5][0-9]{2}))?\s*$/.exec(part);
    const low = Number(m?.[1]);
    const high = m?.[2] === undefined ? low : Number(m[2]);
    if (!m || high < low) {
      ctx.addIssue({ code: 'custom', message: `"${raw}" must list status codes or ranges, such as "200-399" or "200,204"` });
      return z.NEVER;
    }
    ranges.push([low, high]);
  }
  return ranges;
});

const healthCheckSchema = z
  .object({
    path: z.string().startsWith('/', 'must be a path starting with "/"').default('/'),
    interval_secs: positiveSeconds.default(2),
    timeout_secs: positiveSeconds.default(1),
    rise: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(2),
    fall: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(3),
    expect_status: expectStatus.default([[200, 399]]),
  })
  .strict();

const RETRY_CONDITIONS = ['connect_failure', 'timeout', '500', '502', '503', '504'] as const;

const retriesSchema = z
  .object({
    attempts: z.number().int().min(0, 'must be 0 or more').max(MAX_RETRY_ATTEMPTS, `must be at most ${MAX_RETRY_ATTEMPTS}`).default(2),
    on: z.array(z.enum(RETRY_CONDITIONS, `must be one of ${RETRY_CONDITIONS.map((c) => `"${c}"`).join(', ')}`)).default(['connect_failure']),
    budget_percent: z.number().min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100').default(20),
  })
  .strict();

export const upstreamGroupSchema = z
  .object({
    name,
    servers: z.array(serverSchema).min(1, 'must list at least one server').max(MAX_GROUP_SERVERS, `must list at most ${MAX_GROUP_SERVERS} servers`),
    balance: z.enum(BALANCE_METHODS, `must be one of ${BALANCE_METHODS.map((b) => `"${b}"`).join(', ')}`).default('round_robin'),
    hash_key: hashKey.optional(),
    health_check: healthCheckSchema.optional(),
    retries: retriesSchema.default(DEFAULT_RETRIES),
    ...upstreamTlsShape,
  })
  .strict()
  .superRefine((group, ctx) => {
    if (group.hash_key !== undefined && group.balance !== 'hash') {
      ctx.addIssue({ code: 'custom', path: ['hash_key'], message: 'is used only with balance = "hash"' });
    }
    if (group.servers.every((s) => s.backup)) {
      ctx.addIssue({ code: 'custom', path: ['servers'], message: 'needs at least one server that is not a backup' });
    }
    const seen = new Set<string>();
    group.servers.forEach((server, i) => {
      if (seen.has(server.url)) ctx.addIssue({ code: 'custom', path: ['servers', i, 'url'], message: `${server.url} is listed twice in this group` });
      seen.add(server.url);
    });
  });

// ---- [[sites.routes]] -------------------------------------------------------------------------

/** What a header value (and a redirect's `to`) must not hold: it would end the header line. */
export const CR_LF_NUL = /[\r\n\0]/;
/** How a redirect's `to` that is not a path starts: a scheme and a host. */
export const ABSOLUTE_URL = /^https?:\/\/[^/?#\s]+/;
export const DEFAULT_RESPOND_CONTENT_TYPE = 'text/plain; charset=utf-8';

const headerValue = z.string().refine((v) => !CR_LF_NUL.test(v), 'must not contain CR, LF or NUL');

const headerRules = (side: 'request' | 'response') =>
  z
    .object({
      set: z.record(z.string(), headerValue).default({}),
      add: z.record(z.string(), headerValue).default({}),
      remove: z.array(z.string()).default([]),
    })
    .strict()
    .superRefine((rules, ctx) => {
      const check = (path: (string | number)[], header: string) => {
        const problem = headerRuleProblem(side, header);
        if (problem) ctx.addIssue({ code: 'custom', path, message: problem });
      };
      for (const key of Object.keys(rules.set)) check(['set', key], key);
      for (const key of Object.keys(rules.add)) check(['add', key], key);
      rules.remove.forEach((header, i) => check(['remove', i], header));
    });

export type HeaderRulesConfig = z.output<ReturnType<typeof headerRules>>;

export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

const redirectSchema = z
  .object({
    to: z.string().refine((to) => to.startsWith('/') || ABSOLUTE_URL.test(to), 'must be an absolute URL (https://host/path) or a path starting with "/"'),
    status: z
      .number()
      .refine((s): s is (typeof REDIRECT_STATUSES)[number] => (REDIRECT_STATUSES as readonly number[]).includes(s), `must be one of ${REDIRECT_STATUSES.join(', ')}`)
      .default(302),
    keep_path: z.boolean().default(false),
  })
  .strict()
  .refine((r) => !CR_LF_NUL.test(r.to), { path: ['to'], message: 'must not contain CR, LF or NUL' });

const respondSchema = z
  .object({
    status: z.number().int().min(200, 'must be a status from 200 to 599').max(599, 'must be a status from 200 to 599'),
    body: z.string().refine((b) => Buffer.byteLength(b) <= MAX_RESPOND_BODY_BYTES, `must be at most ${MAX_RESPOND_BODY_BYTES} bytes`).default(''),
    content_type: headerValue.default(DEFAULT_RESPOND_CONTENT_TYPE),
  })
  .strict();

export const METHOD = /^[A-Z][A-Z0-9_-]*$/;

export const routeSchema = z
  .object({
    name: name.optional(),
    path: z.string().startsWith('/', 'must start with "/"').optional(),
    path_prefix: z.string().startsWith('/', 'must start with "/"').optional(),
    path_regex: z.string().min(1, 'must not be empty').max(MAX_PATH_REGEX_LENGTH, `must be at most ${MAX_PATH_REGEX_LENGTH} characters`).optional(),
    methods: z.array(z.string().regex(METHOD, 'must be an HTTP method in capitals, such as "GET"')).min(1, 'must list at least one method').optional(),
    match_headers: z.record(z.string().regex(HEADER_NAME, 'must be a header name'), z.string()).optional(),
    upstream: upstreamTarget.optional(),
    strip_prefix: z.boolean().default(false),
    rewrite_prefix: z.string().startsWith('/', 'must start with "/"').optional(),
    redirect: redirectSchema.optional(),
    respond: respondSchema.optional(),
    request_headers: headerRules('request').optional(),
    response_headers: headerRules('response').optional(),
    // The site's settings a route may override; unset means "as the site".
    connect_timeout_secs: positiveSeconds.optional(),
    request_timeout_secs: positiveSeconds.optional(),
    body_limit_bytes: bodyLimitBytes.optional(),
    rate_limit: rateLimitSchema.optional(),
    preserve_host: z.boolean().optional(),
    via: z.boolean().optional(),
  })
  .strict()
  .superRefine((route, ctx) => {
    const matchers = (['path', 'path_prefix', 'path_regex'] as const).filter((k) => route[k] !== undefined);
    if (matchers.length > 1) ctx.addIssue({ code: 'custom', path: [matchers[1]!], message: `use one of "path", "path_prefix" or "path_regex", not both "${matchers[0]}" and "${matchers[1]}"` });
    const actions = (['upstream', 'redirect', 'respond'] as const).filter((k) => route[k] !== undefined);
    if (actions.length > 1) ctx.addIssue({ code: 'custom', path: [actions[1]!], message: `a route does one thing: "${actions[0]}" and "${actions[1]}" cannot both be set` });
    if (route.strip_prefix && route.rewrite_prefix !== undefined) ctx.addIssue({ code: 'custom', path: ['rewrite_prefix'], message: 'use "strip_prefix" or "rewrite_prefix", not both' });
    const rewrites = route.strip_prefix || route.rewrite_prefix !== undefined;
    if (rewrites && route.path_regex !== undefined) ctx.addIssue({ code: 'custom', path: [route.strip_prefix ? 'strip_prefix' : 'rewrite_prefix'], message: 'needs "path" or "path_prefix" (a regex has no prefix to replace)' });
    if (rewrites && (route.redirect !== undefined || route.respond !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [route.strip_prefix ? 'strip_prefix' : 'rewrite_prefix'], message: 'applies to forwarded requests only, not to "redirect" or "respond"' });
    }
    if (route.path_regex !== undefined) {
      const problem = pathRegexProblem(route.path_regex);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['path_regex'], message: problem });
    }
  });

export type UpstreamGroupConfig = z.output<typeof upstreamGroupSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type BalanceMethod = (typeof BALANCE_METHODS)[number];
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];
