// The worker's traffic side: binds the listeners, hands each accepted socket to a
// ClientConnection (src/proxy/http1/), routes requests through the current config generation,
// and swaps generations atomically. A request captures the generation it started with, so a
// reload never changes the rules under a request in flight.
import type { Server as NetServer, Socket } from 'node:net';
import type { ClientTimeoutConfig, ListenerConfig } from '../config/schema.ts';
import { DEFAULT_CLIENT_BODY_TIMEOUT_SECS, DEFAULT_CLIENT_HEADER_TIMEOUT_SECS, DEFAULT_KEEPALIVE_TIMEOUT_SECS } from '../config/defaults.ts';
import type { ServerState } from '../config/upstream-groups.ts';
import type { Logger } from '../log.ts';
import type { UpstreamFigures, WorkerFigures } from '../metrics/figures.ts';
import { WorkerMetrics } from '../metrics/worker-metrics.ts';
import { flushAccessLog } from './access-log.ts';
import { applyServerStates, serverStates, type ServerStates } from './balance/upstream-group.ts';
import { compileGeneration, describeSites, resolveGeneration, type CompiledGeneration } from './generation.ts';
import type { Generation, WireGeneration } from '../config/generation.ts';
import { ClientConnection } from './http1/connection.ts';
import type { ClientTimeouts, ConnectionContext, ConnectionOwner } from './http1/route.ts';
import { DRAIN_IDLE_GRACE_MS } from './limits.ts';
import { createListener, listenOn } from './listeners.ts';
import { TlsTerminator } from './tls-terminator.ts';
import { UpstreamPools } from './pools.ts';
import { RequestIds } from './request-id.ts';
import { countStillOpen, type StillOpen } from './still-open.ts';

export type { Generation } from './generation.ts';

interface ProxyServerOptions {
  listeners: ListenerConfig[];
  logger: Logger;
  accessLog: boolean;
  /** The static client timeouts; the documented defaults when left out. */
  clientTimeouts?: ClientTimeoutConfig;
  /** `request_id_header`; "" or left out turns request IDs off. */
  requestIdHeader?: string;
}

interface ProxyStats {
  activeConnections: number;
  activeRequests: number;
  sites: number;
}

const DEFAULT_TIMEOUTS: ClientTimeoutConfig = {
  client_header_timeout_secs: DEFAULT_CLIENT_HEADER_TIMEOUT_SECS,
  client_body_timeout_secs: DEFAULT_CLIENT_BODY_TIMEOUT_SECS,
  keepalive_timeout_secs: DEFAULT_KEEPALIVE_TIMEOUT_SECS,
};

function timeoutsOf(config: ClientTimeoutConfig): ClientTimeouts {
  return {
    headerMs: config.client_header_timeout_secs * 1000,
    bodyMs: config.client_body_timeout_secs * 1000,
    keepAliveMs: config.keepalive_timeout_secs * 1000,
    keepAliveSecs: config.keepalive_timeout_secs,
  };
}

export class ProxyServer implements ConnectionOwner {
  readonly logger: Logger;
  readonly accessLogger: Logger | undefined;
  readonly timeouts: ClientTimeouts;
  readonly requestIds: RequestIds | undefined;
  /** The records the request path counts into, and what the master collects from them. */
  readonly metrics = new WorkerMetrics();
  readonly #listeners: ListenerConfig[];
  readonly #servers: NetServer[] = [];
  /** Every accepted socket, TLS handshakes in progress included. */
  readonly #sockets = new Set<Socket>();
  readonly #connections = new Set<ClientConnection>();
  readonly #pools = new UpstreamPools();
  readonly #tls = new TlsTerminator();
  #compiled: CompiledGeneration | undefined;
  #serverStates: ServerStates = new Map();
  #activeRequests = 0;
  #draining = false;
  /** Set by drain() while it waits for the last connection to close. */
  #allClosed: (() => void) | undefined;

  constructor(options: ProxyServerOptions) {
    this.#listeners = options.listeners;
    this.logger = options.logger;
    this.accessLogger = options.accessLog ? options.logger : undefined;
    this.timeouts = timeoutsOf(options.clientTimeouts ?? DEFAULT_TIMEOUTS);
    this.requestIds = options.requestIdHeader ? new RequestIds(options.requestIdHeader) : undefined;
  }

  get generation(): Generation | undefined {
    return this.#compiled?.generation;
  }

  get compiled(): CompiledGeneration | undefined {
    return this.#compiled;
  }

  get draining(): boolean {
    return this.#draining;
  }

  requestStarted(): void {
    this.#activeRequests++;
  }

  requestEnded(): void {
    this.#activeRequests--;
  }

  connectionClosed(connection: ClientConnection): void {
    this.#connections.delete(connection);
  }

  /** Binds every listener; resolves with the bound "address:port" of each, in config order. */
  async listen(): Promise<string[]> {
    const bound: string[] = [];
    for (const listener of this.#listeners) {
      const context: ConnectionContext = { owner: this, proto: listener.tls ? 'https' : 'http' };
      const server = createListener(listener, this.timeouts.headerMs, this.#tls, {
        accepted: (socket) => this.#track(socket),
        ready: (stream) => this.#connections.add(new ClientConnection(stream, context, clientAddress(stream.socket))),
      });
      bound.push(await listenOn(server, listener));
      this.#servers.push(server);
    }
    return bound;
  }

  /** Compiles a generation (keeping the sites it shares with the running one) and makes it the one new requests use. */
  apply(wire: WireGeneration): void {
    const generation = resolveGeneration(wire, this.#compiled);
    const compiled = compileGeneration(generation, this.#pools, this.#compiled, this.#serverStates, this.metrics.recordsFor(generation));
    // New handshakes get this generation's certificates; open connections keep their session.
    this.#tls.use(generation.certificates);
    this.#compiled = compiled;
    // Pools only the previous generation used finish their in-flight requests, then close.
    this.#pools.retainOnly(compiled.pools).catch((error: unknown) => {
      this.logger.warn({ event: 'pool_close_failed', err: error }, 'closing unused upstream pools failed');
    });
  }

  /** The master's latest word on server health and admin states; applies to this and later generations. */
  applyServerStates(states: readonly ServerState[]): void {
    this.#serverStates = serverStates(states);
    if (this.#compiled !== undefined) applyServerStates(this.#compiled.groups.values(), this.#serverStates);
  }

  /** This worker's metrics figures, for the master's collection. */
  figures(): WorkerFigures {
    const now = performance.now();
    const byOrigin = new Map<string, UpstreamFigures>();
    const entry = (origin: string) => {
      let figures = byOrigin.get(origin);
      if (figures === undefined) byOrigin.set(origin, (figures = { server: origin, up: true, activeConnections: 0, idleConnections: 0 }));
      return figures;
    };
    for (const group of this.#compiled?.groups.values() ?? []) for (const server of group.balancer.servers) if (!server.usable(now, undefined)) entry(server.origin).up = false;
    for (const pool of this.#compiled?.pools ?? []) {
      const figures = entry(pool.origin);
      figures.idleConnections += pool.idleConnections;
      figures.activeConnections += pool.openConnections - pool.idleConnections;
    }
    return this.metrics.figures({ clientConnections: this.#sockets.size, upstreams: [...byOrigin.values()] });
  }

  stats(): ProxyStats {
    return { activeConnections: this.#sockets.size, activeRequests: this.#activeRequests, sites: this.#compiled?.sites.length ?? 0 };
  }

  siteLines(): string[] {
    return this.#compiled ? describeSites(this.#compiled) : [];
  }

  /**
   * Stops accepting, lets in-flight requests finish (their responses carry
   * `Connection: close`), closes idle keep-alive connections, and after `timeoutMs` destroys
   * whatever is left. Resolves with undefined once every connection and upstream pool is closed,
   * or, when that takes longer than `graceMs` after the deadline's cut, with what is open then.
   */
  async drain(timeoutMs: number, graceMs: number): Promise<StillOpen | undefined> {
    this.#draining = true;
    // Stop accepting, but leave idle keep-alive connections open: closing one races with a
    // client that is sending on it right then, and that request would fail. Each connection is
    // instead closed after its next response (which carries `Connection: close`), like
    // Envoy's drain and HAProxy's idle-close-on-response; the deadline closes the rest.
    const closed = Promise.all(this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    // A connection still idle after the grace had no request since drain began: a client
    // parked on it (a load balancer's pool) would otherwise hold shutdown to the deadline.
    const idleSweep = setTimeout(() => {
      for (const connection of this.#connections) connection.closeIfIdle();
    }, DRAIN_IDLE_GRACE_MS);
    let deadlineHit = false;
    let grace: NodeJS.Timeout | undefined;
    let graceOver: (open: StillOpen) => void = () => undefined;
    const late = new Promise<StillOpen>((resolve) => (graceOver = resolve));
    const deadline = setTimeout(() => {
      deadlineHit = true;
      for (const connection of this.#connections) connection.cut();
      for (const socket of this.#sockets) socket.destroy();
      // The grace starts once this turn has run, close events included: on a starved event loop
      // every timer due fires in one go, and a grace timed from the drain's start would end
      // before the cut connections closed, losing their access lines and drain_cut counts.
      grace = setTimeout(() => graceOver(countStillOpen(this.#connections, this.#sockets.size, this.#pools.openConnections)), graceMs);
    }, timeoutMs);
    const allClosed = (async () => {
      await closed;
      clearTimeout(idleSweep);
      // The servers report closed as their count drops; wait for the sockets' own close events
      // too, so stats() reads zero once drain() resolves.
      if (this.#sockets.size > 0) await new Promise<void>((resolve) => (this.#allClosed = resolve));
      if (deadlineHit) this.#pools.destroyAll();
      else await this.#pools.closeAll();
    })();
    const stillOpen = await Promise.race([allClosed.then(() => undefined), late]);
    clearTimeout(deadline);
    clearTimeout(grace);
    flushAccessLog();
    return stillOpen;
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      if (this.#sockets.size === 0) this.#allClosed?.();
    });
  }
}

/** The client's IP as people write it: IPv4-mapped IPv6 addresses shown as plain IPv4. */
function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
