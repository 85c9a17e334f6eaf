// The balancers on their own: shares by weight, load awareness, consistent hashing's key
// movement, backups, health and admin states, passive ejection, and retries avoiding servers
// already tried. The same groups are driven end to end through the proxy in proxy-balance.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BalanceMethod } from '../src/config/routes-schema.ts';
import { ServerGroup, type PickRequest } from '../src/proxy/balance/group.ts';
import { HashRing } from '../src/proxy/balance/hash-ring.ts';
import { UpstreamServer } from '../src/proxy/balance/server.ts';

const servers = (...weights: number[]) => weights.map((w, i) => new UpstreamServer(`http://10.0.0.${i + 1}:80`, w));
const group = (balance: BalanceMethod, list: UpstreamServer[], hashKey?: string) => new ServerGroup({ name: 'g', servers: list, balance, hashKey });
const request = (over: Partial<PickRequest> = {}): PickRequest => ({ remote: '192.0.2.1', rawHeaders: [], tried: undefined, ...over });

function shares(g: ServerGroup, picks: number, next: (i: number) => PickRequest = () => request()): Map<UpstreamServer | undefined, number> {
  const counts = new Map<UpstreamServer | undefined, number>();
  for (let i = 0; i < picks; i++) {
    const s = g.pick(next(i));
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}

function assertWithin5Percent(counts: Map<UpstreamServer | undefined, number>, list: UpstreamServer[], picks: number) {
  const total = list.reduce((n, s) => n + s.weight, 0);
  for (const s of list) {
    const expected = (picks * s.weight) / total;
    const got = counts.get(s) ?? 0;
    assert.ok(Math.abs(got - expected) <= picks * 0.05, `${s.origin} (weight ${s.weight}) got ${got} of ${picks}, expected about ${expected}`);
  }
}

describe('round_robin (smooth, weighted)', () => {
  test("weights 5:1:1 give nginx's sequence a a b a c a a", () => {
    const list = servers(5, 1, 1);
    const g = group('round_robin', list);
    const names = Array.from({ length: 14 }, () => 'abc'[list.indexOf(g.pick(request())!)]).join(' ');
    assert.equal(names, 'a a b a c a a a a b a c a a');
  });

  test('1,000 picks over weights 3:2:1 are within 5% of each share', () => {
    const list = servers(3, 2, 1);
    assertWithin5Percent(shares(group('round_robin', list), 1000), list, 1000);
  });

  test('a server down, drained or in maintenance gets nothing; the others keep their ratio', () => {
    const list = servers(3, 1, 1, 1);
    list[1]!.health = 'down';
    list[2]!.admin = 'drain';
    list[3]!.admin = 'maint';
    const counts = shares(group('round_robin', list), 100);
    assert.deepEqual([...counts.keys()], [list[0]]);
  });
});

describe('least_conn', () => {
  test('picks the fewest in flight per unit of weight, and round-robins among equals', () => {
    const list = servers(1, 1, 2);
    const g = group('least_conn', list);
    list[0]!.active = 3;
    list[1]!.active = 1;
    list[2]!.active = 4; // 2 per unit of weight
    assert.equal(g.pick(request()), list[1]);
    list[1]!.active = 2;
    list[2]!.active = 4;
    // list[1] and list[2] are now level (2 per unit): both are used, by weight.
    const counts = shares(g, 30);
    assert.equal(counts.get(list[0]), undefined);
    assert.equal(counts.get(list[1]), 10);
    assert.equal(counts.get(list[2]), 20);
  });
});

describe('random_two', () => {
  test('never picks the busiest of three servers, and spreads over the other two', () => {
    const list = servers(1, 1, 1);
    list[0]!.active = 0;
    list[1]!.active = 5;
    list[2]!.active = 9;
    const counts = shares(group('random_two', list), 600);
    assert.equal(counts.get(list[2]), undefined);
    // list[0] wins every draw it is in (2 of 3 pairs), list[1] the remaining pair.
    assert.ok((counts.get(list[0]) ?? 0) > 300 && (counts.get(list[1]) ?? 0) > 100, JSON.stringify([...counts.values()]));
  });

  test('with equal load, shares follow the weights within 5% over 1,000 picks', () => {
    const list = servers(1, 1, 1, 1);
    assertWithin5Percent(shares(group('random_two', list), 1000), list, 1000);
  });
});

describe('hash (consistent)', () => {
  const keys = Array.from({ length: 2000 }, (_, i) => `198.51.100.${i % 250}-${i}`);
  const placement = (g: ServerGroup) => keys.map((k) => g.pick(request({ remote: k }))?.origin);

  test('the same key always gets the same server, and keys spread by weight', () => {
    const list = servers(1, 1, 2);
    const g = group('hash', list);
    const first = placement(g);
    assert.deepEqual(placement(g), first);
    const counts = new Map<string | undefined, number>();
    for (const origin of first) counts.set(origin, (counts.get(origin) ?? 0) + 1);
    // 100 points per unit of weight keep each share within 10 points of its weight's.
    assert.ok(Math.abs((counts.get(list[2]!.origin) ?? 0) / keys.length - 0.5) < 0.1, JSON.stringify([...counts]));
  });

  test('a server going down moves only its own keys, and they come back when it does', () => {
    const list = servers(1, 1, 1, 1);
    const g = group('hash', list);
    const before = placement(g);
    list[2]!.health = 'down';
    const during = placement(g);
    let moved = 0;
    before.forEach((origin, i) => {
      if (origin === list[2]!.origin) {
        moved++;
        assert.notEqual(during[i], origin);
      } else assert.equal(during[i], origin, `key ${keys[i]} moved from ${origin} although its server stayed`);
    });
    assert.ok(moved > 300, `the down server had ${moved} keys`);
    list[2]!.health = 'up';
    assert.deepEqual(placement(g), before);
  });

  test('removing a server from the config (a new ring) moves only its keys too', () => {
    const list = servers(1, 1, 1, 1);
    const before = placement(group('hash', list));
    const after = placement(group('hash', list.filter((_, i) => i !== 1)));
    before.forEach((origin, i) => {
      if (origin !== list[1]!.origin) assert.equal(after[i], origin);
    });
  });

  test('by header and by cookie; a request without the key is balanced round-robin', () => {
    const byHeader = group('hash', servers(1, 1, 1), 'header:X-User');
    const alice = request({ rawHeaders: ['x-user', 'alice'] });
    const pick = byHeader.pick(alice);
    for (let i = 0; i < 20; i++) assert.equal(byHeader.pick(request({ remote: `10.1.1.${i}`, rawHeaders: ['X-USER', 'alice'] })), pick);
    const byCookie = group('hash', servers(1, 1, 1), 'cookie:sid');
    const session = byCookie.pick(request({ rawHeaders: ['Cookie', 'theme=dark; sid=abc123'] }));
    for (let i = 0; i < 20; i++) assert.equal(byCookie.pick(request({ remote: `10.1.1.${i}`, rawHeaders: ['cookie', 'sid=abc123; x=1'] })), session);
    const keyless = shares(byCookie, 30, () => request({ rawHeaders: ['cookie', 'theme=dark'] }));
    assert.deepEqual([...keyless.values()], [10, 10, 10]);
  });

  test('a retry walks on along the ring to a server not tried yet', () => {
    const list = servers(1, 1, 1);
    const ring = new HashRing(list);
    const first = ring.pick('k', 0, undefined)!;
    const second = ring.pick('k', 0, [first])!;
    assert.notEqual(second, first);
    assert.equal(ring.pick('k', 0, list), undefined);
  });
});

describe('backups, ejection and retries', () => {
  test('backups get traffic only while no primary is usable', () => {
    const list = [...servers(1, 1), new UpstreamServer('http://10.0.0.9:80', 1, true)];
    const g = group('round_robin', list);
    assert.equal(shares(g, 10).get(list[2]), undefined);
    list[0]!.health = 'down';
    list[1]!.admin = 'maint';
    assert.deepEqual([...shares(g, 5).entries()], [[list[2], 5]]);
    list[2]!.health = 'down';
    assert.equal(g.pick(request()), undefined, 'nothing up: the caller answers 503');
  });

  test('a server ejected after a failed connect is skipped, unless every server is ejected', () => {
    const list = servers(1, 1);
    const g = group('round_robin', list);
    const now = performance.now();
    assert.equal(list[0]!.eject(now), true);
    assert.equal(list[0]!.eject(now), false, 'already out');
    assert.deepEqual([...shares(g, 4).keys()], [list[1]]);
    list[1]!.eject(now);
    assert.ok(g.pick(request()) !== undefined, 'a server that failed a connect beats no server');
  });

  test('tried servers are excluded: a retry lands on another server', () => {
    for (const balance of ['round_robin', 'least_conn', 'random_two', 'hash'] as const) {
      const list = servers(1, 1, 1);
      const g = group(balance, list);
      const first = g.pick(request())!;
      const second = g.pick(request({ tried: [first] }))!;
      assert.ok(second !== undefined && second !== first, balance);
      assert.equal(g.pick(request({ tried: list })), undefined, `${balance}: every server tried`);
    }
  });
});
