// Token-bucket arithmetic and the bound on tracked clients. The clock is passed in, so these
// run instantly and exactly; the 429 on the wire is covered in proxy-errors.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RATE_LIMIT_CLIENTS, RATE_LIMIT_SWEEP_INTERVAL_MS } from '../src/proxy/limits.ts';
import { RateLimiter } from '../src/proxy/rate-limit.ts';

describe('RateLimiter', () => {
  it('lets a new client spend its burst, then refills at rps', () => {
    const limiter = new RateLimiter({ rps: 2, burst: 3 });
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('10.0.0.1', 0), 0);
    assert.equal(limiter.take('10.0.0.1', 0), 1, 'empty bucket: retry after 1 s');
    assert.equal(limiter.take('10.0.0.1', 499), 1, 'half a token is not a request');
    assert.equal(limiter.take('10.0.0.1', 500), 0, 'one token back after 1/rps seconds');
    assert.equal(limiter.take('10.0.0.2', 500), 0, 'buckets are per client');
  });

  it('never refills past the burst, and Retry-After is a whole number of seconds ≥ 1', () => {
    const slow = new RateLimiter({ rps: 0.25, burst: 1 });
    assert.equal(slow.take('a', 0), 0);
    assert.equal(slow.take('a', 0), 4);
    const fast = new RateLimiter({ rps: 1000, burst: 2 });
    fast.take('b', 0);
    fast.take('b', 0);
    assert.equal(fast.take('b', 0), 1);
    const idle = new RateLimiter({ rps: 10, burst: 2 });
    idle.take('c', 0);
    // An hour idle still only gives back `burst` tokens.
    assert.equal(idle.take('c', 3_600_000), 0);
    assert.equal(idle.take('c', 3_600_000), 0);
    assert.notEqual(idle.take('c', 3_600_000), 0);
  });

  it(`tracks at most ${MAX_RATE_LIMIT_CLIENTS} clients by default, forgetting full buckets first`, () => {
    const limiter = new RateLimiter({ rps: 1, burst: 1 }, 100);
    // 100 limited clients (empty buckets) fill the table.
    for (let i = 0; i < 100; i++) limiter.take(`limited-${i}`, 0);
    assert.equal(limiter.size, 100);
    // A newcomer evicts the oldest while every bucket is still empty.
    limiter.take('newcomer', 1);
    assert.equal(limiter.size, 100);
    assert.equal(limiter.take('limited-0', 2), 0, 'the evicted client starts over with a full bucket');
    // Once the sweep interval has passed, every refilled (full) bucket is dropped at once.
    limiter.take('late', RATE_LIMIT_SWEEP_INTERVAL_MS + 10_000);
    assert.ok(limiter.size < 100, `full buckets were swept (size ${limiter.size})`);
    assert.notEqual(limiter.take('late', RATE_LIMIT_SWEEP_INTERVAL_MS + 10_000), 0, 'a client still being limited keeps its bucket');
  });

  it('holds a flood of distinct clients to the bound', () => {
    const limiter = new RateLimiter({ rps: 1, burst: 5 }, 1_000);
    for (let i = 0; i < 50_000; i++) limiter.take(`flood-${i}`, i);
    assert.ok(limiter.size <= 1_000);
  });
});
