// Routes through the real binary in front of loopback upstreams: precedence and prefix
// boundaries, methods and header matches, strip/rewrite, redirects keeping the query,
// https_redirect, fixed responses, header rules both ways (without touching the proxy's own
// headers), per-route overrides, the `route` field of the access log, and `show sites`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from './helpers/http-client.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';

interface Echoed {
  upstream: string;
  url: string;
  headers: Record<string, string | undefined>;
}

describe('routes', () => {
  let site: Upstream;
  let api: Upstream;
  let canary: Upstream;
  let proxy: ProxyProcess;

  before(async () => {
    [site, api, canary] = await Promise.all([
      startUpstream(echo('site')),
      startUpstream((req, res, seen) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'api', server: 'api/1.0', 'x-powered-by': 'node' });
        res.end(JSON.stringify({ upstream: 'api', ...seen }));
      }),
      startUpstream(echo('canary')),
    ]);
    proxy = await startProxy({
      config: `
[[upstreams]]
name = "api"
servers = ["${api.url}"]

[[sites]]
host = "shop.test"
upstream = "${site.url}"

  [[sites.routes]]
  name = "everything-v1"
  path_regex = "^/v1/"
  upstream = "api"

  [[sites.routes]]
  name = "canary"
  path_prefix = "/api/"
  match_headers = { "x-canary" = "1" }
  upstream = "${canary.url}"

  [[sites.routes]]
  name = "api"
  path_prefix = "/api/"
  methods = ["GET", "POST"]
  upstream = "api"
  strip_prefix = true
  request_headers = { set = { "x-env" = "prod" }, add = { "x-tag" = "routed" }, remove = ["x-debug"] }
  response_headers = { set = { "strict-transport-security" = "max-age=31536000" }, remove = ["server", "x-powered-by"] }

  [[sites.routes]]
  name = "health"
  path = "/api/health"
  respond = { status = 200, body = "ok\\n", content_type = "text/plain" }

  [[sites.routes]]
  name = "legacy"
  path_prefix = "/legacy"
  rewrite_prefix = "/v2/"
  request_timeout_secs = 3

  [[sites.routes]]
  name = "old"
  path_prefix = "/old/"
  redirect = { to = "https://shop.test/new/", status = 301, keep_path = true }

  [[sites.routes]]
  name = "moved"
  path = "/moved"
  redirect = { to = "/elsewhere" }
  response_headers = { set = { "x-why" = "moved" } }

  [[sites.routes]]
  name = "teapot"
  path = "/teapot"
  respond = { status = 418, body = "{\\"short\\":true}", content_type = "application/json" }

  [[sites.routes]]
  name = "upload"
  path_prefix = "/upload/"
  body_limit_bytes = 8
  rate_limit = { rps = 0.001, burst = 2 }

[[sites]]
host = "secure.test"
upstream = "${site.url}"
https_redirect = true
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([site, api, canary].map((u) => u?.close()));
  });

  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const reply = await send(proxy.port, { path, method, headers: { host: 'shop.test', ...headers } });
    return { ...reply, echoed: reply.headers['content-type']?.includes('json') && reply.status === 200 ? (JSON.parse(reply.body) as Echoed) : undefined };
  };

  it('takes exact paths first, then routes in file order, prefixes on segment boundaries', async () => {
    assert.equal((await get('/api/health')).body, 'ok\n', 'the exact route beats the earlier /api/ prefix');
    assert.equal((await get('/api/users')).echoed?.upstream, 'api');
    assert.equal((await get('/api')).echoed?.upstream, 'api', '/api/ takes /api');
    assert.equal((await get('/apix')).echoed?.upstream, 'site', '/api/ does not take /apix');
    assert.equal((await get('/v1/api/users')).echoed?.upstream, 'api', 'the regex route comes first in the file');
    assert.equal((await get('/api/users', { 'x-canary': '1' })).echoed?.upstream, 'canary', 'the header match comes before the plain /api/ route');
    assert.equal((await get('/api/users', {}, 'DELETE')).echoed?.upstream, 'site', 'a method the route does not list falls through to the site');
    assert.equal((await get('/api/../admin')).echoed?.upstream, 'site', 'dot segments are resolved before matching');
  });

  it('strips and rewrites prefixes, keeping the query', async () => {
    assert.equal((await get('/api/users?id=7')).echoed?.url, '/users?id=7');
    assert.equal((await get('/api')).echoed?.url, '/');
    assert.equal((await get('/legacy/list?page=2')).echoed?.url, '/v2/list?page=2');
    assert.equal((await get('/legacy')).echoed?.url, '/v2/');
    assert.equal((await get('/apix?x=1')).echoed?.url, '/apix?x=1', 'no rewrite: the target goes as it came');
  });

  it('redirects with the rest of the path and the query, and https_redirect answers 308', async () => {
    const old = await get('/old/a/b?x=1&y=2');
    assert.equal(old.status, 301);
    assert.equal(old.headers.location, 'https://shop.test/new/a/b?x=1&y=2');
    const moved = await get('/moved?q=1');
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.location, '/elsewhere', 'without keep_path the target is exactly "to"');
    assert.equal(moved.headers['x-why'], 'moved', 'response rules apply to redirects too');
    const secure = await send(proxy.port, { path: '/cart?item=3', headers: { host: 'Secure.test:8080' } });
    assert.equal(secure.status, 308);
    assert.equal(secure.headers.location, 'https://secure.test/cart?item=3');
    assert.equal(site.requests.filter((r) => r.url === '/cart?item=3').length, 0, 'nothing reached the upstream');
  });

  it('answers fixed responses with their status, body and type', async () => {
    const teapot = await get('/teapot');
    assert.equal(teapot.status, 418);
    assert.equal(teapot.body, '{"short":true}');
    assert.equal(teapot.headers['content-type'], 'application/json');
    assert.equal(teapot.headers['content-length'], '14');
  });

  it("sets, adds and removes headers both ways; the proxy's own headers stay its own", async () => {
    const reply = await get('/api/users', { 'x-debug': '1', 'x-env': 'dev', 'x-forwarded-for': '203.0.113.9', 'x-tag': 'client' });
    const seen = reply.echoed!.headers;
    assert.equal(seen['x-env'], 'prod');
    assert.equal(seen['x-debug'], undefined);
    assert.equal(seen['x-tag'], 'client, routed');
    assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1', 'X-Forwarded-For is still the proxy\'s');
    assert.equal(seen['x-real-ip'], '127.0.0.1');
    assert.equal(reply.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal(reply.headers.server, undefined);
    assert.equal(reply.headers['x-powered-by'], undefined);
    assert.equal(reply.headers['x-upstream'], 'api', 'other response headers pass');
    const plain = await get('/apix');
    assert.equal(plain.headers['strict-transport-security'], undefined, 'rules belong to their route');
  });

  it("applies a route's own body limit and rate limit, and leaves the site's alone", async () => {
    const post = (path: string, body: string) => send(proxy.port, { path, method: 'POST', headers: { host: 'shop.test', 'content-length': String(body.length) }, chunks: [body] });
    assert.equal((await post('/upload/a', 'x'.repeat(9))).status, 413, 'over the route limit of 8 bytes');
    assert.equal((await post('/upload/b', 'x'.repeat(8))).status, 200);
    assert.equal((await post('/other', 'x'.repeat(9))).status, 200, 'the site has no body limit');
    // The burst of 2 is spent (the 413 took a token too): the route now says 429, the site does not.
    const limited = await post('/upload/c', 'x');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    for (let i = 0; i < 5; i++) assert.equal((await get('/apix')).status, 200);
  });

  it('names the route and the attempts in the access log', async () => {
    await get('/api/users?log=1');
    const line = await proxy.waitForLog((l) => l.event === 'access' && l.path === '/api/users?log=1');
    assert.equal(line.route, 'api');
    assert.equal(line.attempts, 1);
    assert.equal(line.upstream, api.url);
    await get('/apix?log=2');
    const plain = await proxy.waitForLog((l) => l.event === 'access' && l.path === '/apix?log=2');
    assert.equal(plain.route, null);
    await get('/teapot?log=3');
    const fixed = await proxy.waitForLog((l) => l.event === 'access' && l.path === '/teapot?log=3');
    assert.equal(fixed.route, 'teapot');
    assert.equal(fixed.status, 418);
    assert.equal(fixed.attempts, 0);
    assert.equal(fixed.error, undefined, 'a fixed response is not an error');
  });

  it('show sites lists every route under its site', async () => {
    const sites = await proxy.admin('show sites');
    const lines = sites.split('\n');
    assert.equal(lines[0], '# generation 1, 2 site(s)');
    assert.equal(lines[1], `shop.test -> ${site.url} (connect 5s, request 60s)`);
    assert.deepEqual(lines.slice(2, 10), [
      '  route everything-v1: regex ^\\/v1\\/ -> upstream group api',
      `  route canary: prefix /api, header x-canary=1 -> ${canary.url}`,
      '  route api: prefix /api, methods GET,POST -> upstream group api (strip prefix)',
      '  route health: path /api/health -> respond 200',
      `  route legacy: prefix /legacy -> ${site.url} (rewrite prefix to /v2/)`,
      '  route old: prefix /old -> redirect 301 https://shop.test/new/ (keep path)',
      '  route moved: path /moved -> redirect 302 /elsewhere',
      '  route teapot: path /teapot -> respond 418',
    ]);
    assert.equal(lines[10], `  route upload: prefix /upload -> ${site.url}`);
    assert.equal(lines[11], `secure.test -> ${site.url} (connect 5s, request 60s, https redirect)`);
  });
});
