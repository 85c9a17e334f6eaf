// The worker's close grace after its drain deadline (WORKER_CLOSE_GRACE_MS) must not run out
// before the connections the deadline cut have closed: their close events are what log their
// access lines and count them as drain_cut. On a starved event loop every timer due is fired in
// one go, the deadline's and the grace's alike; seen under load as a cut request missing from
// the access log and the metrics after `drain_incomplete`. Real loopback sockets; the event loop
// is starved by blocking it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { graceAfterDeadline } from '../src/runtime/deadlines.ts';

const DEADLINE_MS = 50;
const GRACE_MS = 100;

test('the close grace runs out only after what the drain deadline cut has closed, even when the event loop was starved past both', async (t) => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => undefined);
  t.after(() => client.destroy());
  const [cutSocket] = await accepted;

  const order: string[] = [];
  const late = graceAfterDeadline(DEADLINE_MS, GRACE_MS).then(() => order.push('grace over'));
  setTimeout(() => cutSocket.destroy(), DEADLINE_MS); // the drain deadline cuts the connection
  cutSocket.once('close', () => order.push('cut connection closed'));
  // Starved past both: when the loop runs again, every timer above is due.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, DEADLINE_MS + GRACE_MS + 200);
  await late;
  assert.deepEqual(order, ['cut connection closed', 'grace over']);
});
