// A worker's reload keeps what did not change: the compiled site (route table, handling, pools,
// limiters, metrics records) of every site whose config text is unchanged and whose groups are
// the same, and the master sends those sites as references only. What a worker builds that way
// is what it builds from scratch.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { generationOf, wireGeneration, type Generation } from '../src/config/generation.ts';
import type { LoadedConfig } from '../src/config/load.ts';
import { SiteCache } from '../src/config/site-cache.ts';
import { SLOT } from '../src/metrics/layout.ts';
import { NO_FIRST_BYTE, NO_REASON, requestFinished, requestStarted } from '../src/metrics/recorder.ts';
import { WorkerMetrics } from '../src/metrics/worker-metrics.ts';
import { serverStates } from '../src/proxy/balance/upstream-group.ts';
import { compileGeneration, describeSites, resolveGeneration, type CompiledGeneration } from '../src/proxy/generation.ts';
import { UpstreamPools } from '../src/proxy/pools.ts';

const GROUP = (servers: string) => `[[upstreams]]\nname = "api"\nservers = [${servers}]\n\n`;

function site(n: number, extra = ''): string {
  return `[[sites]]
host = "site-${n}.test"
upstream = "http://127.0.0.1:${3000 + n}"
rate_limit = { rps = ${n} }
${extra}
  [[sites.routes]]
  name = "ping"
  path = "/ping"
  respond = { status = 200, body = "pong ${n}" }

  [[sites.routes]]
  name = "slow"
  path_prefix = "/slow/"
  request_timeout_secs = ${n}
  rate_limit = { rps = 1 }
`;
}

/** `site(n)` plus a route to the shared [[upstreams]] group. */
const apiSite = (n: number) => site(n, '  [[sites.routes]]\n  name = "api"\n  path_prefix = "/api/"\n  upstream = "api"\n');

let id = 0;
function generation(cache: SiteCache, text: string, caFiles: Record<string, string> = {}): Generation {
  const parsed = cache.parse(text, 'c.toml');
  parsed.commit();
  const loaded: LoadedConfig = { file: 'c.toml', config: parsed.config, sha256: String(++id), certificates: [], caFiles, warnings: [] };
  if (parsed.siteKeys !== undefined) loaded.siteKeys = parsed.siteKeys;
  return generationOf(id, loaded);
}

/** A worker's side of it: what ProxyServer.apply does with a generation. */
class Worker {
  readonly pools = new UpstreamPools();
  readonly metrics = new WorkerMetrics();
  compiled: CompiledGeneration | undefined;
  apply(generation: Generation): CompiledGeneration {
    this.compiled = compileGeneration(generation, this.pools, this.compiled, serverStates([]), this.metrics.recordsFor(generation));
    return this.compiled;
  }
}

const workers: Worker[] = [];
after(async () => {
  for (const w of workers) await w.pools.retainOnly(new Set());
});
function worker(): Worker {
  const w = new Worker();
  workers.push(w);
  return w;
}

describe('compiled sites across reloads', () => {
  test('a site whose text is unchanged keeps its compiled table, handling, limiters, pools and records; an edited one is compiled anew', () => {
    const cache = new SiteCache();
    const w = worker();
    const text = (sites: string[]) => GROUP('"http://127.0.0.1:4001"') + sites.join('');
    const first = w.apply(generation(cache, text([site(1), site(2), site(3)])));
    assert.equal(first.sitesKept, 0);

    const second = w.apply(generation(cache, text([site(1), site(2).replace('pong 2', 'pong two'), site(3)])));
    assert.equal(second.sitesKept, 2);
    for (const i of [0, 2]) {
      const [before, now] = [first.sites[i]!, second.sites[i]!];
      assert.equal(now.routes, before.routes, `site ${i}: the same route table`);
      assert.equal(now.handling, before.handling);
      assert.equal(now.metrics, before.metrics, `site ${i}: the same metrics records`);
      assert.equal(second.limiters.get([...before.uses.limiters.keys()][0]!), [...before.uses.limiters.values()][0], 'its limiters are this generation\'s');
      for (const pool of before.uses.pools) assert.ok(second.pools.has(pool), 'its pools stay in use, so they are not closed');
    }
    assert.notEqual(second.sites[1]!.routes, first.sites[1]!.routes);
    const ping = second.sites[1]!.routes.match('GET', '/ping', [])!.route.action;
    assert.equal(ping.kind === 'respond' && ping.body.toString(), 'pong two');
    // The edited site keeps its rate limit buckets: same hosts, same limit.
    assert.equal(second.sites[1]!.handling.rateLimiter, first.sites[1]!.handling.rateLimiter);
    assert.equal(second.router.match('site-1.test'), second.sites[0], 'the router holds this generation\'s site objects');
  });

  test('a changed [[upstreams]] group recompiles the sites that forward to it, and only those', () => {
    const cache = new SiteCache();
    const w = worker();
    const first = w.apply(generation(cache, GROUP('"http://127.0.0.1:4001"') + apiSite(1) + site(2)));
    const second = w.apply(generation(cache, GROUP('"http://127.0.0.1:4002"') + apiSite(1) + site(2)));
    assert.equal(second.sitesKept, 1);
    assert.equal(second.sites[1]!.routes, first.sites[1]!.routes, 'the site that does not use the group is kept');
    const api = second.sites[0]!.routes.match('GET', '/api/x', [])!.route.settings.target.group;
    assert.equal(api, second.groups.get('api'));
    assert.deepStrictEqual(api.balancer.servers.map((s) => s.origin), ['http://127.0.0.1:4002']);
    assert.ok([...second.pools].some((p) => p.origin === 'http://127.0.0.1:4002'));
  });

  test('a site\'s own https URLs are compiled anew when the CA file they trust changes, though the site\'s text does not', () => {
    const cache = new SiteCache();
    const w = worker();
    const text = `[[sites]]\nhost = "tls.test"\nupstream = "https://127.0.0.1:4443"\ntls_ca_file = "ca.pem"\n` + site(2);
    const first = w.apply(generation(cache, text, { 'ca.pem': 'CA one' }));
    const same = w.apply(generation(cache, text, { 'ca.pem': 'CA one' }));
    assert.equal(same.sitesKept, 2);
    assert.equal(same.groups.get('site:tls.test'), first.groups.get('site:tls.test'), 'the same group, kept as it is');
    const rotated = w.apply(generation(cache, text, { 'ca.pem': 'CA two' }));
    assert.equal(rotated.sitesKept, 1, 'only the site that does not trust the CA is kept');
    const group = rotated.groups.get('site:tls.test')!;
    assert.notEqual(group, first.groups.get('site:tls.test'));
    assert.equal(group.tls.ca, 'CA two');
    assert.equal(rotated.sites[0]!.handling.target.group, group, 'the site forwards through the new group');
  });

  test('what a worker builds by keeping sites is what it builds from scratch, after adds, removals, moves and edits', () => {
    const cache = new SiteCache();
    const warm = worker();
    const texts = [
      [apiSite(1), site(2), site(3)],
      [apiSite(1), site(2), site(3), site(4)],
      [site(4), apiSite(1), site(3)],
      [site(4), apiSite(1).replace('pong 1', 'pong one'), site(3)],
      [site(4), site(5), site(3)],
    ].map((sites) => GROUP('"http://127.0.0.1:4001", "http://127.0.0.1:4003"') + sites.join(''));
    let kept = 0;
    for (const text of texts) {
      const compiled = warm.apply(generation(cache, text));
      kept += compiled.sitesKept;
      const cold = worker().apply(generation(new SiteCache(), text));
      assert.deepStrictEqual(describeSites(compiled), describeSites(cold));
      assert.deepStrictEqual(
        [...compiled.pools].map((p) => p.origin).sort(),
        [...cold.pools].map((p) => p.origin).sort(),
      );
      assert.deepStrictEqual([...compiled.limiters.keys()].sort(), [...cold.limiters.keys()].sort());
    }
    assert.equal(kept, 3 + 3 + 2 + 2, 'every unchanged site was kept');
  });
});

describe('route shapes shared between sites', () => {
  test('sites whose routes are written alike share one shape; routes that only match alike share the matcher; a site compiled by a later reload finds them', () => {
    const cache = new SiteCache();
    const w = worker();
    const slow = (n: number) => site(n).replace(`request_timeout_secs = ${n}`, 'request_timeout_secs = 9');
    const first = w.apply(generation(cache, slow(1).replace('pong 1', 'pong') + slow(2).replace('pong 2', 'pong') + slow(3)));
    const [one, two, three] = first.sites.map((s) => s.routes);
    assert.equal(one!.shape, two!.shape, 'routes written alike: one shape');
    assert.notEqual(one!.routes[0]!.settings, two!.routes[0]!.settings, 'but each site has its own settings (its own rate limit here)');
    assert.notEqual(three!.shape, one!.shape, 'a different respond body: a shape of its own');
    assert.equal(three!.shape.matcher, one!.shape.matcher, 'that matches like the others: the same matcher');
    assert.equal(two!.match('GET', '/slow/x', [])!.route.settings.requestTimeoutMs, 9_000);

    const text = (two: string, three: string) => slow(1).replace('pong 1', 'pong') + two + three;
    const edited = w.apply(generation(cache, text(slow(2).replace('pong 2', 'pong').replace('rps = 2', 'rps = 7'), slow(3))));
    assert.equal(edited.sitesKept, 2);
    assert.equal(edited.sites[1]!.routes.shape, one!.shape, 'the edited site, compiled anew, shares the kept site\'s shape');
    // Only the kept site 1 uses the shape now that site 2 is kept too and site 3 is edited: the pool has it from site 1.
    const threeEdited = w.apply(generation(cache, text(slow(2).replace('pong 2', 'pong').replace('rps = 2', 'rps = 7'), slow(3).replace('pong 3', 'pong three'))));
    assert.equal(threeEdited.sitesKept, 2);
    const twoEdited = w.apply(generation(cache, text(slow(2).replace('pong 2', 'pong').replace('rps = 2', 'rps = 8'), slow(3).replace('pong 3', 'pong three'))));
    assert.equal(twoEdited.sites[1]!.routes.shape, one!.shape, 'two reloads on, a site compiled anew still finds the shape the kept sites use');
  });
});

describe('reload messages', () => {
  test('sites the running generation has are sent as null and resolved from the worker\'s own', () => {
    const cache = new SiteCache();
    const w = worker();
    const sites = [1, 2, 3, 4].map((n) => site(n));
    const first = generation(cache, sites.join(''));
    w.apply(first);
    const second = generation(cache, [...sites.slice(0, 3), site(5)].join(''));
    const wire = wireGeneration(second, first);
    assert.deepStrictEqual(wire.sites.map((s) => s === null), [true, true, true, false]);
    const sent = JSON.parse(JSON.stringify(wire));
    assert.ok(JSON.stringify(wire).length < JSON.stringify(second).length / 2);
    assert.deepStrictEqual(resolveGeneration(sent, w.compiled), JSON.parse(JSON.stringify(second)));
  });

  test('a worker that does not hold a site sent as unchanged refuses the generation', () => {
    const cache = new SiteCache();
    const first = generation(cache, site(1) + site(2));
    const second = generation(cache, site(1) + site(3));
    const elsewhere = worker();
    elsewhere.apply(generation(new SiteCache(), site(2)));
    assert.throws(() => resolveGeneration(wireGeneration(second, first), elsewhere.compiled), /site 0 was sent as unchanged, but this worker does not hold it/);
    assert.throws(() => resolveGeneration(wireGeneration(second, first), undefined), /does not hold it/);
  });

  test('a generation loaded whole (no site keys) is sent whole', () => {
    const cache = new SiteCache();
    const first = generation(cache, site(1));
    const whole = { ...generation(cache, site(1)), siteKeys: undefined };
    assert.equal(wireGeneration(whole, first).sites[0], whole.sites[0]);
  });
});

describe('metrics records across reloads', () => {
  test('a kept site keeps its records and counts on; "since the last reload" starts over for what counted; removed sites\' records go', () => {
    const cache = new SiteCache();
    const w = worker();
    const first = w.apply(generation(cache, site(1) + site(2) + site(3)));
    const counted = first.sites[0]!.metrics.routeByName.get('ping')!;
    requestStarted(counted);
    requestFinished(counted, 200, NO_REASON, 0, 10, 1, NO_FIRST_BYTE);

    const second = w.apply(generation(cache, site(1) + site(2).replace('pong 2', 'pong two')));
    assert.equal(second.sites[0]!.metrics, first.sites[0]!.metrics, 'the kept site\'s records, as they were');
    assert.equal(second.sites[1]!.metrics.site, first.sites[1]!.metrics.site, 'an edited site with the same name keeps its records too');
    const figures = w.metrics.figures({ clientConnections: 0, upstreams: [] }).records;
    const ping = figures.find((r) => r.labels.site === 'site-1.test' && r.labels.route === 'ping')!;
    assert.equal(ping.total[SLOT.statusClass + 1], 1, 'the count goes on');
    assert.equal(ping.sinceReload[SLOT.statusClass + 1], 0, 'and since the reload it is 0');
    requestStarted(counted);
    requestFinished(counted, 200, NO_REASON, 0, 10, 1, NO_FIRST_BYTE);
    w.apply(generation(cache, site(1) + site(2).replace('pong 2', 'pong two')));
    const again = w.metrics.figures({ clientConnections: 0, upstreams: [] }).records.find((r) => r.labels.site === 'site-1.test' && r.labels.route === 'ping')!;
    assert.deepStrictEqual([again.total[SLOT.statusClass + 1], again.sinceReload[SLOT.statusClass + 1]], [2, 0]);

    requestStarted(second.sites[0]!.metrics.site);
    const removed = w.apply(generation(cache, site(2).replace('pong 2', 'pong two')));
    assert.equal(removed.sites.length, 1);
    const labels = w.metrics.figures({ clientConnections: 0, upstreams: [] }).records.map((r) => r.labels.site);
    assert.ok(!labels.includes('site-1.test') && !labels.includes('site-3.test'), 'records of sites no longer in the config are dropped');
  });

  test('a route\'s record is made at its first request; an edited site\'s routes take over the records counted before', () => {
    const cache = new SiteCache();
    const w = worker();
    const first = w.apply(generation(cache, site(1) + site(2)));
    const routes = first.sites[1]!.metrics.routeByName;
    assert.equal([...routes.made()].length, 0, 'no route record before a request');
    assert.equal(routes.get('nope'), undefined, 'no record for a route the site does not have');
    const ping = routes.get('ping')!;
    assert.deepEqual(ping.labels, { site: 'site-2.test', route: 'ping' });
    assert.equal(routes.get('ping'), ping, 'made once');
    assert.deepEqual([...routes.made()], [ping]);
    requestStarted(ping);
    requestFinished(ping, 200, NO_REASON, 0, 10, 1, NO_FIRST_BYTE);

    const edited = w.apply(generation(cache, site(1) + site(2).replace('pong 2', 'pong two')));
    assert.notEqual(edited.sites[1]!.metrics, first.sites[1]!.metrics, 'the edited site has records of its own');
    assert.equal(edited.sites[1]!.metrics.routeByName.get('ping'), ping, 'and counts on in the record of its route');
    assert.deepEqual([...edited.sites[1]!.metrics.routeByName.made()], [ping], 'its idle route still has none');
    const counted = w.metrics.figures({ clientConnections: 0, upstreams: [] }).records.find((r) => r.labels.route === 'ping')!;
    assert.equal(counted.total[SLOT.statusClass + 1], 1);
  });
});
