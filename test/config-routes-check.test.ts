// `reverse-proxy check` on `[[upstreams]]` groups and `[[sites.routes]]`: the example
// loads, and every way of getting them wrong is refused with file:line and key.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkConfigText } from './helpers/proxy-process.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rp-check-routes-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const check = (name: string, text: string) => checkConfigText(dir, name, text);

/** The example of issue 14, key for key. */
const EXAMPLE = `[[upstreams]]
name = "api"
servers = [ { url = "http://10.0.0.1:8080", weight = 3 },
            { url = "http://10.0.0.2:8080" },
            { url = "http://10.0.0.3:8080", backup = true } ]
balance = "round_robin"
health_check = { path = "/healthz", interval_secs = 5, timeout_secs = 1, rise = 2, fall = 3, expect_status = "200-399" }
retries = { attempts = 2, on = ["connect_failure", "502", "503", "504"], budget_percent = 20 }

[[upstreams]]
name = "sessions"
servers = ["http://10.0.0.4:8080", "http://10.0.0.5:8080"]
balance = "hash"
hash_key = "cookie:sid"

[[sites]]
host = "shop.example.com"
upstream = "http://127.0.0.1:3000"
https_redirect = false

  [[sites.routes]]
  path_prefix = "/api/"
  methods = ["GET", "POST"]
  match_headers = { "x-canary" = "1" }
  upstream = "api"
  strip_prefix = true
  request_headers = { set = { "x-env" = "prod" }, add = { }, remove = ["x-debug"] }
  response_headers = { set = { "strict-transport-security" = "max-age=31536000" }, remove = ["server"] }
  request_timeout_secs = 5

  [[sites.routes]]
  path_prefix = "/old/"
  redirect = { to = "https://shop.example.com/new/", status = 301, keep_path = true }

  [[sites.routes]]
  name = "ping"
  path = "/ping"
  respond = { status = 200, body = "pong\\n", content_type = "text/plain" }

  [[sites.routes]]
  path_regex = "^/v[0-9]+/"
  upstream = "sessions"

[[sites]]
host = "app.example.com"
upstream = "api"
`;

describe('check: upstream groups and routes', () => {
  test("the issue's example is valid, and the summary counts groups and routes", async () => {
    const r = await check('example.toml', EXAMPLE);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /example\.toml: ok: 2 sites, 2 upstream groups, 4 routes, 1 listener/);
  });

  test('an unknown group, from a site and from a route, names the groups that exist', async () => {
    const r = await check(
      'unknown-group.toml',
      '[[upstreams]]\nname = "api"\nservers = ["http://127.0.0.1:1"]\n\n[[sites]]\nhost = "a.com"\nupstream = "apx"\n\n  [[sites.routes]]\n  path = "/x"\n  upstream = "nope"\n',
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown-group\.toml:7: sites\[0\]\.upstream\[0\]: "apx" is not a URL or the name of an \[\[upstreams\]\] group \(defined groups: "api"\)/);
    assert.match(r.stderr, /unknown-group\.toml:11: sites\[0\]\.routes\[0\]\.upstream\[0\]: "nope" is not a URL or the name of an \[\[upstreams\]\] group/);
  });

  test('a route with both redirect and upstream, or respond and redirect, is refused', async () => {
    const r = await check(
      'two-actions.toml',
      [
        '[[upstreams]]',
        'name = "api"',
        'servers = ["http://127.0.0.1:1"]',
        '[[sites]]',
        'host = "a.com"',
        'upstream = "http://127.0.0.1:2"',
        '  [[sites.routes]]',
        '  path_prefix = "/old/"',
        '  upstream = "api"',
        '  redirect = { to = "https://a.com/new/" }',
        '  [[sites.routes]]',
        '  path = "/ping"',
        '  redirect = { to = "/pong" }',
        '  respond = { status = 200 }',
        '',
      ].join('\n'),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /two-actions\.toml:10: sites\[0\]\.routes\[0\]\.redirect: a route does one thing: "upstream" and "redirect" cannot both be set/);
    assert.match(r.stderr, /two-actions\.toml:14: sites\[0\]\.routes\[1\]\.respond: a route does one thing: "redirect" and "respond" cannot both be set/);
  });

  test('a regex that needs backtracking, and one that does not compile, are refused at load', async () => {
    const r = await check(
      'regex.toml',
      [
        '[[sites]]',
        'host = "a.com"',
        'upstream = "http://127.0.0.1:2"',
        '  [[sites.routes]]',
        '  path_regex = \'^/(\\w+)/\\1$\'',
        '  [[sites.routes]]',
        '  path_regex = \'^/(?=admin)\'',
        '  [[sites.routes]]',
        '  path_regex = \'^/(a\'',
        '',
      ].join('\n'),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /regex\.toml:5: sites\[0\]\.routes\[0\]\.path_regex: needs backtracking \(a backreference or a lookahead\/lookbehind\)/);
    assert.match(r.stderr, /regex\.toml:7: sites\[0\]\.routes\[1\]\.path_regex: needs backtracking/);
    assert.match(r.stderr, /regex\.toml:9: sites\[0\]\.routes\[2\]\.path_regex: is not a valid regular expression: .*Unterminated group/);
  });

  test('nested quantifiers load: the linear-time engine cannot backtrack on them', async () => {
    const r = await check('nested.toml', '[[sites]]\nhost = "a.com"\nupstream = "http://127.0.0.1:2"\n  [[sites.routes]]\n  path_regex = "^/(a+)+$"\n');
    assert.equal(r.code, 0, r.stderr);
  });

  test('a server listed twice in a group', async () => {
    const r = await check('servers.toml', '[[upstreams]]\nname = "api"\nservers = ["http://127.0.0.1:1", { url = "http://127.0.0.1:1", weight = 2 }]\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /servers\.toml:3: upstreams\[0\]\.servers\[1\]\.url: http:\/\/127\.0\.0\.1:1 is listed twice in this group/);
  });

  test('duplicate group names and duplicate route names in one site', async () => {
    const r = await check(
      'names.toml',
      [
        '[[upstreams]]',
        'name = "api"',
        'servers = ["http://127.0.0.1:1"]',
        '[[upstreams]]',
        'name = "api"',
        'servers = ["http://127.0.0.1:3"]',
        '[[sites]]',
        'host = "a.com"',
        'upstream = "http://127.0.0.1:2"',
        '  [[sites.routes]]',
        '  name = "same"',
        '  path = "/a"',
        '  [[sites.routes]]',
        '  name = "same"',
        '  path = "/b"',
        '[[sites]]',
        'host = "b.com"',
        'upstream = "http://127.0.0.1:2"',
        '  [[sites.routes]]',
        '  name = "same"',
        '  path = "/a"',
        '',
      ].join('\n'),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /names\.toml:5: upstreams\[1\]\.name: group "api" is already defined by upstreams\[0\]/);
    assert.match(r.stderr, /names\.toml:14: sites\[0\]\.routes\[1\]\.name: route "same" is already the name of routes\[0\] of this site/);
    assert.doesNotMatch(r.stderr, /sites\[1\]\.routes/, 'a route name is scoped to its site');
  });

  test('values a person can get wrong in groups and routes are explained', async () => {
    const r = await check(
      'values.toml',
      [
        '[[upstreams]]',
        'name = "my api"',
        'servers = [{ url = "http://127.0.0.1:1", backup = true }]',
        'balance = "fastest"',
        'hash_key = "ip"',
        'health_check = { path = "healthz", expect_status = "2xx" }',
        'retries = { on = ["500", "sometimes"], budget_percent = 120 }',
        '[[sites]]',
        'host = "a.com"',
        'upstream = ["http://127.0.0.1:2", "api"]',
        '  [[sites.routes]]',
        '  path = "/a"',
        '  path_prefix = "/a/"',
        '  [[sites.routes]]',
        '  path_regex = "^/v1/"',
        '  strip_prefix = true',
        '  [[sites.routes]]',
        '  path_prefix = "/x/"',
        '  strip_prefix = true',
        '  rewrite_prefix = "/y/"',
        '  [[sites.routes]]',
        '  path = "/r"',
        '  redirect = { to = "elsewhere", status = 200 }',
        '  [[sites.routes]]',
        '  path = "/h"',
        '  methods = ["get"]',
        '  request_headers = { remove = ["Connection", "host"] }',
        '  response_headers = { set = { "transfer-encoding" = "gzip" } }',
        '',
      ].join('\n'),
    );
    assert.equal(r.code, 1);
    const lines = [
      /values\.toml:2: upstreams\[0\]\.name: must be made of letters, digits, "_" and "-"/,
      /values\.toml:4: upstreams\[0\]\.balance: must be one of "round_robin", "least_conn", "random_two", "hash"/,
      /values\.toml:5: upstreams\[0\]\.hash_key: must be "client_ip", "header:<name>" or "cookie:<name>"/,
      /values\.toml:6: upstreams\[0\]\.health_check\.path: must be a path starting with "\/"/,
      /values\.toml:6: upstreams\[0\]\.health_check\.expect_status: "2xx" must list status codes or ranges/,
      /values\.toml:7: upstreams\[0\]\.retries\.on\[1\]: must be one of "connect_failure", "timeout", "500", "502", "503", "504"/,
      /values\.toml:7: upstreams\[0\]\.retries\.budget_percent: must be between 0 and 100/,
      /values\.toml:10: sites\[0\]\.upstream: a group name must be the only entry/,
      /values\.toml:13: sites\[0\]\.routes\[0\]\.path_prefix: use one of "path", "path_prefix" or "path_regex", not both "path" and "path_prefix"/,
      /values\.toml:16: sites\[0\]\.routes\[1\]\.strip_prefix: needs "path" or "path_prefix"/,
      /values\.toml:20: sites\[0\]\.routes\[2\]\.rewrite_prefix: use "strip_prefix" or "rewrite_prefix", not both/,
      /values\.toml:23: sites\[0\]\.routes\[3\]\.redirect\.to: must be an absolute URL/,
      /values\.toml:23: sites\[0\]\.routes\[3\]\.redirect\.status: must be one of 301, 302, 303, 307, 308/,
      /values\.toml:26: sites\[0\]\.routes\[4\]\.methods\[0\]: must be an HTTP method in capitals/,
      /values\.toml:27: sites\[0\]\.routes\[4\]\.request_headers\.remove\[0\]: "connection" is managed by the proxy/,
      /values\.toml:27: sites\[0\]\.routes\[4\]\.request_headers\.remove\[1\]: "host" is set by the proxy; use the route's or site's "preserve_host"/,
      /values\.toml:28: sites\[0\]\.routes\[4\]\.response_headers\.set\.transfer-encoding: "transfer-encoding" is managed by the proxy/,
    ];
    for (const line of lines) assert.match(r.stderr, line);
  });
});
