// The route table on its own: precedence, segment-boundary prefixes, regexes, methods and
// headers, path normalisation, and the targets and Locations that strip/rewrite/keep_path make.
// The proxy drives the same table end to end in proxy-routes.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { routeSchema, type RouteConfig } from '../src/config/routes-schema.ts';
import { applyHeaderRules, compileHeaderRules } from '../src/proxy/routes/header-rules.ts';
import { normalizePath } from '../src/proxy/routes/normalize.ts';
import { regexLiteralPrefix } from '../src/proxy/routes/regex-prefix.ts';
import { httpsLocation, redirectLocation, rewriteTarget } from '../src/proxy/routes/rewrite.ts';
import { RouteTable, type RouteMatch } from '../src/proxy/routes/route-table.ts';

type Settings = { timeout: number; upstream: string | undefined };
const settings = (route: RouteConfig) => ({ timeout: route.request_timeout_secs ?? 60, upstream: route.upstream?.join(',') });
const table = (...routes: Record<string, unknown>[]) => new RouteTable<Settings>(routes.map((r) => routeSchema.parse(r)), settings);
const nameOf = (m: RouteMatch<Settings> | undefined) => m?.route.name;

/** The target a forwarded match sends, or the Location a redirect answers with. */
function outcome(m: RouteMatch<Settings> | undefined, target: string): string | undefined {
  if (m === undefined) return undefined;
  const action = m.route.action;
  if (action.kind === 'redirect') return redirectLocation(action.to, action.keepPath, m.remainder, m.query);
  if (action.kind === 'forward') return action.rewrite === undefined ? target : rewriteTarget(action.rewrite, m.remainder, m.query);
  return `respond ${action.status}`;
}

describe('matching', () => {
  test('exact paths first, then the others in file order; first match wins', () => {
    const t = table({ name: 'all', path_prefix: '/' }, { name: 'api', path_prefix: '/api/' }, { name: 'health', path: '/api/health' });
    assert.equal(nameOf(t.match('GET', '/api/health', [])), 'health', 'exact beats an earlier prefix');
    assert.equal(nameOf(t.match('GET', '/api/users', [])), 'all', 'file order: the earlier, broader prefix shadows /api/');
    assert.equal(nameOf(t.match('GET', '/api/health/x', [])), 'all');
  });

  const cases: [prefix: string, path: string, matches: boolean][] = [
    ['/api/', '/api/', true],
    ['/api/', '/api', true],
    ['/api/', '/api/v1/users', true],
    ['/api/', '/apix', false],
    ['/api/', '/apix/y', false],
    ['/api/', '/ap', false],
    ['/api', '/api/x', true],
    ['/api', '/api-v2', false],
    ['/', '/anything/at/all', true],
    ['/a/b/', '/a/b', true],
    ['/a/b/', '/a/bc', false],
    ['/a/b/', '/a/', false],
  ];
  for (const [prefix, path, matches] of cases) {
    test(`path_prefix ${prefix} ${matches ? 'matches' : 'does not match'} ${path}`, () => {
      assert.equal(nameOf(table({ name: 'r', path_prefix: prefix }).match('GET', path, [])), matches ? 'r' : undefined);
    });
  }

  test('the query is not part of the path', () => {
    const t = table({ name: 'ping', path: '/ping' }, { name: 'p', path_prefix: '/p/' });
    assert.equal(nameOf(t.match('GET', '/ping?x=1', [])), 'ping');
    assert.equal(nameOf(t.match('GET', '/pingx?x=1', [])), undefined);
    assert.equal(nameOf(t.match('GET', '/p?/x', [])), 'p');
  });

  test('path_regex, methods and match_headers all have to agree', () => {
    const t = table(
      { name: 'canary', path_regex: '^/v[0-9]+/', methods: ['GET', 'POST'], match_headers: { 'X-Canary': '1' } },
      { name: 'versioned', path_regex: '^/v[0-9]+/' },
    );
    assert.equal(nameOf(t.match('GET', '/v2/items', ['x-canary', '1'])), 'canary');
    assert.equal(nameOf(t.match('POST', '/v2/items', ['Host', 'a', 'X-CANARY', '1'])), 'canary', 'header names are case-insensitive');
    assert.equal(nameOf(t.match('DELETE', '/v2/items', ['x-canary', '1'])), 'versioned', 'method not listed');
    assert.equal(nameOf(t.match('HEAD', '/v2/items', ['x-canary', '1'])), 'versioned', 'HEAD is not implied by GET');
    assert.equal(nameOf(t.match('GET', '/v2/items', ['x-canary', '0'])), 'versioned', 'header values are exact');
    assert.equal(nameOf(t.match('GET', '/v2/items', [])), 'versioned');
    assert.equal(nameOf(t.match('GET', '/vx/items', [])), undefined);
  });

  test('a regex is skipped without running only when the path lacks the literal start every match has', () => {
    const cases: [source: string, literal: string][] = [
      ['^/v[0-9]+/', '/v'],
      ['^/api/v2', '/api/v2'],
      ['^/ab?c', '/a'],
      ['^/ab*', '/a'],
      ['^/ab{0,2}', '/a'],
      ['^/ab+', '/ab'],
      ['^/x\\.json$', '/x.json'],
      ['^/x\\.?', '/x'],
      ['^\\/v\\d', '/v'],
      ['^/a|/b', ''],
      ['^(/a)', ''],
      ['/v[0-9]+', ''],
      ['^a?', ''],
    ];
    for (const [source, literal] of cases) {
      assert.equal(regexLiteralPrefix(source), literal, source);
      assert.equal(regexLiteralPrefix(new RegExp(source).source), literal, `${source} as RegExp.source`);
      const re = new RegExp(source);
      for (const path of ['/v1/', '/api/v2', '/ac', '/abc', '/a', '/abb', '/x.json', '/x', '/b', '/zz/v3', 'a']) {
        if (re.test(path)) assert.ok(path.startsWith(literal), `${source} matches ${path}, which starts with "${literal}"`);
      }
    }
    const t = table(
      { name: 'optional', path_regex: '^/ab?c' },
      { name: 'alternation', path_regex: '^/x|/y' },
      { name: 'unanchored', path_regex: 'v[0-9]+$' },
      { name: 'anchored', path_regex: '^/v[0-9]+/' },
    );
    assert.equal(nameOf(t.match('GET', '/ac', [])), 'optional', 'the optional b is not part of the literal start');
    assert.equal(nameOf(t.match('GET', '/q/y', [])), 'alternation');
    assert.equal(nameOf(t.match('GET', '/api/v2', [])), 'unanchored');
    assert.equal(nameOf(t.match('GET', '/v7/', [])), 'anchored');
    assert.equal(nameOf(t.match('GET', '/w7/', [])), undefined);
  });

  test('a pattern that would backtrack catastrophically on a hostile path still answers at once', () => {
    const t = table({ name: 'r', path_regex: '^/(a+)+$' });
    // Backtracking alone needs about 2^40 steps here (hours); past V8's backtrack limit the match
    // is finished on the linear-time engine.
    assert.equal(nameOf(t.match('GET', `/${'a'.repeat(40)}!`, [])), undefined);
    assert.equal(nameOf(t.match('GET', `/${'a'.repeat(40)}`, [])), 'r');
  });

  test('routes match the normalised path: dot segments, double slashes, escaped letters', () => {
    const t = table({ name: 'admin', path_prefix: '/admin/' }, { name: 'api', path_prefix: '/api/' });
    assert.equal(nameOf(t.match('GET', '/api/../admin/users', [])), 'admin');
    assert.equal(nameOf(t.match('GET', '//admin//users', [])), 'admin');
    assert.equal(nameOf(t.match('GET', '/%61dmin/users', [])), 'admin');
    assert.equal(nameOf(t.match('GET', '/./api/x', [])), 'api');
    assert.equal(nameOf(t.match('GET', '/admin%2Fusers', [])), undefined, 'an escaped slash is not a separator');
  });

  test('a route without a path matcher matches every path (header-only canaries)', () => {
    const t = table({ name: 'canary', match_headers: { 'x-canary': '1' } });
    assert.equal(nameOf(t.match('GET', '/any/path', ['x-canary', '1'])), 'canary');
    assert.equal(nameOf(t.match('GET', '/any/path', [])), undefined);
  });

  test('a site without routes matches nothing; default names are routes[<index>]', () => {
    assert.equal(table().match('GET', '/', []), undefined);
    const t = table({ path: '/a' }, { name: 'b', path: '/b' }, { path: '/c' });
    assert.deepEqual(t.routes.map((r) => r.name), ['routes[0]', 'b', 'routes[2]']);
  });

  test("a route's settings (overrides, its group) come from the caller's compiler", () => {
    const t = table({ name: 'slow', path_prefix: '/slow/', request_timeout_secs: 5, upstream: 'api' });
    const m = t.match('GET', '/slow/x', [])!;
    assert.deepEqual(m.route.settings, { timeout: 5, upstream: 'api' });
    assert.deepEqual(m.route.action, { kind: 'forward', rewrite: undefined });
  });
});

describe('rewrites and redirects', () => {
  const cases: [route: Record<string, unknown>, target: string, expected: string][] = [
    [{ path_prefix: '/api/', strip_prefix: true }, '/api/users?id=1', '/users?id=1'],
    [{ path_prefix: '/api/', strip_prefix: true }, '/api', '/'],
    [{ path_prefix: '/api/', strip_prefix: true }, '/api/', '/'],
    [{ path_prefix: '/api', strip_prefix: true }, '/api/a/b', '/a/b'],
    [{ path_prefix: '/api/', rewrite_prefix: '/v2/' }, '/api/users', '/v2/users'],
    [{ path_prefix: '/api/', rewrite_prefix: '/v2/' }, '/api', '/v2/'],
    [{ path_prefix: '/api/', rewrite_prefix: '/v2' }, '/api/users?q', '/v2/users?q'],
    [{ path_prefix: '/api/', rewrite_prefix: '/' }, '/api/users', '/users'],
    [{ path: '/old', rewrite_prefix: '/new' }, '/old?x=1', '/new?x=1'],
    [{ path_prefix: '/api/', strip_prefix: true }, '/api/../api/x', '/x'],
    [{ path_prefix: '/api/' }, '/api//x?y', '/api//x?y'],
    [{ path_prefix: '/old/', redirect: { to: 'https://shop.example.com/new/', keep_path: true } }, '/old/a/b?x=1&y=2', 'https://shop.example.com/new/a/b?x=1&y=2'],
    [{ path_prefix: '/old/', redirect: { to: 'https://shop.example.com/new/', keep_path: true } }, '/old', 'https://shop.example.com/new/'],
    [{ path_prefix: '/old/', redirect: { to: 'https://shop.example.com/new/', keep_path: true } }, '/old/?q=1', 'https://shop.example.com/new/?q=1'],
    [{ path_prefix: '/old/', redirect: { to: '/new?src=old', keep_path: true } }, '/old/x?q=1', '/new/x?src=old&q=1'],
    [{ path_prefix: '/old/', redirect: { to: 'https://elsewhere.example/' } }, '/old/a?x=1', 'https://elsewhere.example/'],
    [{ path_regex: '^/v[0-9]+/', redirect: { to: 'https://v.example/', keep_path: true } }, '/v1/items?x', 'https://v.example/items?x'],
    [{ path: '/ping', respond: { status: 200, body: 'pong' } }, '/ping', 'respond 200'],
  ];
  for (const [route, target, expected] of cases) {
    test(`${JSON.stringify(route)}: ${target} → ${expected}`, () => {
      const t = table(route);
      assert.equal(outcome(t.match('GET', target, []), target), expected);
    });
  }

  test('https_redirect keeps host and target', () => {
    assert.equal(httpsLocation('shop.example.com', '/a/b?c=1'), 'https://shop.example.com/a/b?c=1');
  });
});

describe('header rules', () => {
  const rules = compileHeaderRules({ set: { 'X-Env': 'prod' }, add: { 'x-tag': 'b' }, remove: ['x-debug', 'Server'] })!;

  test('remove drops every value, set replaces, add appends; other headers keep order and case', () => {
    const out = applyHeaderRules(['Accept', '*/*', 'X-Debug', '1', 'x-env', 'dev', 'X-Tag', 'a', 'x-debug', '2', 'server', 'nginx'], rules);
    assert.deepEqual(out, ['Accept', '*/*', 'X-Tag', 'a', 'x-env', 'prod', 'x-tag', 'b']);
  });

  test('no rules, no rule set; the input is never modified', () => {
    assert.equal(compileHeaderRules({ set: {}, add: {}, remove: [] }), undefined);
    const input = ['x-debug', '1'];
    applyHeaderRules(input, rules);
    assert.deepEqual(input, ['x-debug', '1']);
  });
});

describe('normalizePath', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a//b', '/a/b'],
    ['/a/./b/', '/a/b/'],
    ['/a/../b', '/b'],
    ['/../../etc', '/etc'],
    ['/a/..', '/'],
    ['/a/b/.', '/a/b/'],
    ['/%7Euser/%2e%2e/x', '/x'],
    ['/a%2fb', '/a%2Fb'],
    ['/caf%C3%A9', '/caf%C3%A9'],
    ['*', '*'],
  ];
  for (const [input, expected] of cases) test(`${input} → ${expected}`, () => assert.equal(normalizePath(input), expected));
});
