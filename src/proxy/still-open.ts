// What a worker's drain found still open when its grace after the deadline ran out, by kind: the
// fields and the message of `drain_incomplete`, so an operator can tell upstream pools still
// closing from client connections, lingering closes or tunnels that outlived the deadline's cut.
import type { ConnectionState } from './http1/connection.ts';

export interface StillOpen {
  /** Client connections with a request in flight. */
  client_requests: number;
  /** Client connections between requests, or with a request head still arriving. */
  client_idle: number;
  /** Lingering closes (CLIENT_LINGER_MS): the response is sent, what the client still sends is read. */
  lingering_closes: number;
  /** Client connections joined to an upstream after a 101. */
  tunnels: number;
  /** Client connections the proxy closed, their close still to come. */
  client_closing: number;
  /** Accepted sockets that are no client connection (yet): TLS handshakes. */
  handshakes: number;
  /** Upstream connections open or opening, in pools in use or closing. */
  upstream_connections: number;
}

const KIND_OF_STATE: Record<ConnectionState, keyof StillOpen> = {
  request: 'client_requests',
  head: 'client_idle',
  lingering: 'lingering_closes',
  tunnel: 'tunnels',
  closed: 'client_closing',
};

/** `sockets`: every accepted socket still open, the connections' own included. */
export function countStillOpen(connections: Iterable<{ readonly state: ConnectionState }>, sockets: number, upstreamConnections: number): StillOpen {
  const open: StillOpen = { client_requests: 0, client_idle: 0, lingering_closes: 0, tunnels: 0, client_closing: 0, handshakes: 0, upstream_connections: upstreamConnections };
  let clients = 0;
  for (const connection of connections) {
    open[KIND_OF_STATE[connection.state]]++;
    clients++;
  }
  open.handshakes = Math.max(0, sockets - clients);
  return open;
}

const NAMES: ReadonlyArray<[keyof StillOpen, string, string]> = [
  ['client_requests', 'client connection in a request', 'client connections in a request'],
  ['client_idle', 'idle client connection', 'idle client connections'],
  ['lingering_closes', 'lingering close', 'lingering closes'],
  ['tunnels', 'tunnel', 'tunnels'],
  ['client_closing', 'client connection closing', 'client connections closing'],
  ['handshakes', 'TLS handshake', 'TLS handshakes'],
  ['upstream_connections', 'upstream connection', 'upstream connections'],
];

/** "1 upstream connection, 2 tunnels"; what is open, for the log line's message. */
export function describeStillOpen(open: StillOpen): string {
  const parts = NAMES.filter(([kind]) => open[kind] > 0).map(([kind, one, many]) => `${open[kind]} ${open[kind] === 1 ? one : many}`);
  return parts.length === 0 ? 'nothing the worker counts' : parts.join(', ');
}
