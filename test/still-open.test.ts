// What `drain_incomplete` reports when a worker's grace after the drain deadline runs out: each
// kind counted from the connections' states and the accepted sockets, and the message naming them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countStillOpen, describeStillOpen } from '../src/proxy/still-open.ts';
import type { ConnectionState } from '../src/proxy/http1/connection.ts';

const connections = (...states: ConnectionState[]) => states.map((state) => ({ state }));

test('each client connection counts by its state; accepted sockets that are no connection are handshakes', () => {
  const open = countStillOpen(connections('request', 'request', 'head', 'lingering', 'tunnel', 'closed'), 8, 1);
  assert.deepEqual(open, { client_requests: 2, client_idle: 1, lingering_closes: 1, tunnels: 1, client_closing: 1, handshakes: 2, upstream_connections: 1 });
  assert.equal(describeStillOpen(open), '2 client connections in a request, 1 idle client connection, 1 lingering close, 1 tunnel, 1 client connection closing, 2 TLS handshakes, 1 upstream connection');
});

test('only what is open is named, one or many', () => {
  assert.equal(describeStillOpen(countStillOpen([], 0, 3)), '3 upstream connections');
  assert.equal(describeStillOpen(countStillOpen(connections('tunnel', 'tunnel'), 2, 0)), '2 tunnels');
  assert.equal(describeStillOpen(countStillOpen([], 0, 0)), 'nothing the worker counts');
});
