// The data path's clock (src/proxy/read-clock.ts): held at the moment a read began while it is
// handled, so every event of one read shares one clock read; running again outside a read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beginRead, endRead, now } from '../src/proxy/read-clock.ts';

/** Spins until performance.now() has moved by `ms`: real time passing, no timer involved. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('while a read is handled the clock holds at its start; outside one it runs', () => {
  const outer = beginRead();
  const began = now();
  spin(3);
  assert.equal(now(), began, 'held during the read');
  endRead(outer);
  assert.ok(now() >= began + 3, 'running again after it');
  spin(1);
  assert.ok(now() > began + 3);
});

test('a read handled inside another gives the outer one its moment back', () => {
  const first = beginRead();
  const outerAt = now();
  spin(2);
  const second = beginRead();
  assert.ok(now() >= outerAt + 2, 'the inner read has its own moment');
  endRead(second);
  assert.equal(now(), outerAt, 'the outer read holds its moment again');
  endRead(first);
  assert.ok(now() > outerAt);
});
