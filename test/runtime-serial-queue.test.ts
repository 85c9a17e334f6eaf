// The reload queue's guarantees, on real timers: one task at a time in arrival order, and a
// coalesced reload always starts after the caller asked.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { CoalescingTask, SerialQueue } from '../src/runtime/serial-queue.ts';

describe('SerialQueue', () => {
  test('runs tasks one at a time, in order, even when one fails', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    let running = 0;
    const task = (name: string, fail = false) => async () => {
      running++;
      assert.equal(running, 1, 'two tasks overlapped');
      events.push(`start ${name}`);
      await sleep(5);
      events.push(`end ${name}`);
      running--;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([queue.run(task('a')), queue.run(task('b', true)), queue.run(task('c'))]);
    assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('SerialQueue deadlines', () => {
  test('a task that never settles gives way at its deadline: its caller gets onTimeout(), the next task runs', async () => {
    const queue = new SerialQueue();
    const stuck = queue.run(() => new Promise<string>(() => undefined), { ms: 50, onTimeout: () => 'timed out' });
    const next = queue.run(async () => 'next ran');
    assert.equal(await stuck, 'timed out');
    assert.equal(await next, 'next ran');
  });

  test('a task that settles in time keeps its own result, and its deadline timer does not hold the process', async () => {
    const queue = new SerialQueue();
    assert.equal(await queue.run(async () => 'done', { ms: 60_000, onTimeout: () => 'timed out' }), 'done');
  });
});

describe('CoalescingTask', () => {
  test('callers waiting together share one run that starts after all of them asked', async () => {
    const queue = new SerialQueue();
    let runs = 0;
    const askedAt: number[] = [];
    const startedAt: number[] = [];
    const reload = new CoalescingTask(queue, async () => {
      startedAt.push(performance.now());
      await sleep(20);
      return ++runs;
    });

    const first = reload.run();
    askedAt.push(performance.now());
    await sleep(5); // the first run is now in progress
    const waiting = Array.from({ length: 10 }, () => {
      const p = reload.run();
      askedAt.push(performance.now());
      return p;
    });
    assert.equal(await first, 1);
    const shared = await Promise.all(waiting);
    assert.deepEqual(shared, Array(10).fill(2), 'ten waiting callers cost one more run');
    assert.equal(runs, 2);
    assert.ok(startedAt[1]! >= Math.max(...askedAt.slice(1)), 'the shared run started after every caller asked');

    assert.equal(await reload.run(), 3, 'a caller after the queue drained gets a new run');
  });

  test('shares the queue with other tasks without overlapping them', async () => {
    const queue = new SerialQueue();
    let running = 0;
    const guarded = async () => {
      running++;
      assert.equal(running, 1);
      await sleep(3);
      running--;
    };
    const reload = new CoalescingTask(queue, guarded);
    await Promise.all([reload.run(), queue.run(guarded), reload.run(), queue.run(guarded), reload.run()]);
  });
});
