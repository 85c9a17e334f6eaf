// The zod-free validation of routes (routes-plain.ts) held to routeSchema: on every valid route
// it builds exactly what zod outputs, and it accepts nothing zod refuses, so every route error
// still comes from zod with today's message and line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'smol-toml';
import { plainlyValidRoute, plainlyValidRoutes } from '../src/config/routes-plain.ts';
import { routeSchema } from '../src/config/routes-schema.ts';
import { configSchema } from '../src/config/schema.ts';
import { parseConfig } from '../src/config/validate.ts';

/** Routes as TOML writes them (smol-toml's tables, not plain objects), one of every kind. */
const VALID = parse(`
[[r]]
path = "/exact"
[[r]]
name = "api-v2_x"
path_prefix = "/api/"
methods = ["GET", "POST", "M-SEARCH"]
match_headers = { "x-canary" = "1", "X-Env" = "" }
upstream = "api"
strip_prefix = true
request_headers = { set = { "x-env" = "prod" }, add = { "x-a" = "b" }, remove = ["x-debug"] }
response_headers = { set = { "strict-transport-security" = "max-age=1" }, remove = ["server"] }
connect_timeout_secs = 0.5
request_timeout_secs = 30
body_limit_bytes = 0
preserve_host = false
via = true
[[r]]
path_prefix = "/v1/"
rewrite_prefix = "/v2/"
upstream = ["http://127.0.0.1:3000", "https://[::1]:8443/"]
rate_limit = { rps = 2.5 }
[[r]]
path_regex = "^/v[0-9]+/(a|b)$"
request_headers = { }
[[r]]
path_prefix = "/old/"
redirect = { to = "https://shop.example.com/new/", status = 301, keep_path = true }
[[r]]
redirect = { to = "/elsewhere" }
[[r]]
path = "/ping"
respond = { status = 200, body = "pong\\n", content_type = "text/plain" }
[[r]]
respond = { status = 599 }
[[r]]
upstream = "http://127.0.0.1:1"
rate_limit = { rps = 10, burst = 3 }
`)['r'] as unknown[];

/** Routes routeSchema refuses: plainlyValidRoute must leave each one to zod. */
const INVALID: Record<string, unknown>[] = [
  { path: 'relative' },
  { path_prefix: '' },
  { path_regex: '' },
  { path_regex: 'x'.repeat(1025) },
  { path_regex: '^(a)\\1$' },
  { path_regex: '[' },
  { name: 'a b' },
  { name: 3 },
  { methods: [] },
  { methods: ['get'] },
  { methods: 'GET' },
  { match_headers: { 'bad name': '1' } },
  { match_headers: { 'x-a': 1 } },
  { match_headers: ['x'] },
  { upstream: 'not a url' },
  { upstream: ['api', 'http://127.0.0.1:1'] },
  { upstream: 'http://127.0.0.1:1/path' },
  { upstream: [] },
  { strip_prefix: 'yes' },
  { rewrite_prefix: 'v2/' },
  { path_prefix: '/a/', strip_prefix: true, rewrite_prefix: '/b/' },
  { path_regex: '^/a', strip_prefix: true },
  { respond: { status: 200 }, strip_prefix: true },
  { path: '/a', path_prefix: '/b' },
  { upstream: 'api', respond: { status: 200 } },
  { redirect: { to: 'relative' } },
  { redirect: { to: '/a', status: 304 } },
  { redirect: { to: '/a\n' } },
  { redirect: { to: '/a', keep_path: 1 } },
  { redirect: { to: '/a', extra: 1 } },
  { respond: { status: 199 } },
  { respond: { status: 200.5 } },
  { respond: {} },
  { respond: { status: 200, body: 'x'.repeat(64 * 1024 + 1) } },
  { respond: { status: 200, content_type: 'a\r\nb' } },
  { request_headers: { set: { host: 'x' } } },
  { request_headers: { set: { 'x-a': 'a\nb' } } },
  { request_headers: { remove: ['x-forwarded-for'] } },
  { request_headers: { other: {} } },
  { response_headers: { add: { 'content-length': '1' } } },
  { connect_timeout_secs: 0 },
  { connect_timeout_secs: Infinity },
  { request_timeout_secs: '5' },
  { body_limit_bytes: -1 },
  { body_limit_bytes: 1.5 },
  { body_limit_bytes: 2 ** 60 },
  { rate_limit: { rps: 0 } },
  { preserve_host: 'true' },
  { via: 1 },
  { unknown_key: 1 },
  { path: new Date(0) },
];

describe('plainlyValidRoute', () => {
  test('builds exactly what routeSchema outputs, for a route of every kind', () => {
    for (const route of VALID) assert.deepStrictEqual(plainlyValidRoute(route), routeSchema.parse(route), JSON.stringify(route));
  });

  test('accepts nothing routeSchema refuses', () => {
    for (const route of INVALID) {
      assert.equal(routeSchema.safeParse(route).success, false, `zod refuses ${JSON.stringify(route)}`);
      assert.equal(plainlyValidRoute(route), undefined, JSON.stringify(route));
    }
    for (const notATable of [undefined, null, 'x', 3, [], new Date(0)]) assert.equal(plainlyValidRoute(notATable), undefined);
  });

  test('a site\'s routes: all plainly valid, or none taken (zod judges the list)', () => {
    assert.deepStrictEqual(plainlyValidRoutes(undefined), []);
    assert.deepStrictEqual(plainlyValidRoutes(VALID), VALID.map((r) => routeSchema.parse(r)));
    assert.equal(plainlyValidRoutes([...VALID, INVALID[0]]), undefined);
    assert.equal(plainlyValidRoutes({ path: '/a' }), undefined);
  });
});

describe('parseConfig with plainly valid routes', () => {
  const routesToml = (routes: readonly unknown[]) => routes.map((r) => `  [[sites.routes]]\n${Object.entries(r as object).map(([k, v]) => `  ${k} = ${JSON.stringify(v)}\n`).join('')}`).join('');

  test('gives what zod gives on the whole document', () => {
    const simple = VALID.filter((r) => Object.values(r as object).every((v) => typeof v !== 'object' || Array.isArray(v)));
    const text = `[[upstreams]]\nname = "api"\nservers = ["http://127.0.0.1:9"]\n\n${[1, 2, 3].map((n) => `[[sites]]\nhost = "s${n}.test"\nupstream = "http://127.0.0.1:${n}"\n${routesToml(simple)}`).join('\n')}`;
    assert.deepStrictEqual(parseConfig(text, 'c.toml'), configSchema.parse(parse(text)));
  });

  test('a file with a bad route and a bad site field reports both, as zod words them', () => {
    const text = `[[sites]]\nhost = "a.test"\nupstream = "http://127.0.0.1:1"\n  [[sites.routes]]\n  path = "/ok"\n\n[[sites]]\nhost = "b.test"\nupstream = "http://127.0.0.1:2"\nrequest_timeout_secs = 0\n  [[sites.routes]]\n  path = "/ok"\n\n[[sites]]\nhost = "c.test"\nupstream = "http://127.0.0.1:3"\n  [[sites.routes]]\n  path = "bad"\n`;
    assert.throws(() => parseConfig(text, 'c.toml'), (err: Error) => {
      assert.equal(err.message, 'c.toml:10: sites[1].request_timeout_secs: must be a number of seconds greater than 0; c.toml:18: sites[2].routes[0].path: must start with "/"');
      return true;
    });
  });
});
