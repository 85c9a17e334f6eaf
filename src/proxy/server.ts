// The worker's traffic side: binds the listeners, routes each request through the current
// config generation, and swaps generations atomically. A request captures the generation it
// started with, so a reload never changes the rules under a request in flight.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import type { ListenerConfig } from '../config/schema.ts';
import { describeErrno, ListenerError } from '../errors.ts';
import { http } from '../node-http.ts';
import type { Logger } from '../log.ts';
import { admit } from './admission.ts';
import { BodyLimitStream } from './body-limit.ts';
import { Exchange, type ExchangeOwner } from './exchange.ts';
import { compileGeneration, describeSites, type CompiledGeneration, type CompiledSite, type Generation } from './generation.ts';
import { readClientHead, upstreamRequestHeaders, type ClientHead } from './headers.ts';
import {
  CLIENT_HEADERS_TIMEOUT_MS,
  CLIENT_KEEP_ALIVE_TIMEOUT_MS,
  CLIENT_REQUEST_TIMEOUT_MS,
  DRAIN_IDLE_GRACE_MS,
  MAX_REQUEST_HEADER_BYTES,
} from './limits.ts';
import { UpstreamPools } from './pools.ts';
import { loadTlsFiles } from './tls-files.ts';
import { Tunnel } from './tunnel.ts';
import { BODY_TOO_LARGE_REPLY } from './upstream-errors.ts';

export type { Generation } from './generation.ts';

const netServerClose = NetServer.prototype.close;

export interface ProxyServerOptions {
  listeners: ListenerConfig[];
  logger: Logger;
  accessLog: boolean;
}

export interface ProxyStats {
  activeConnections: number;
  activeRequests: number;
  sites: number;
}

const SERVER_OPTIONS: ServerOptions = {
  keepAliveTimeout: CLIENT_KEEP_ALIVE_TIMEOUT_MS,
  headersTimeout: CLIENT_HEADERS_TIMEOUT_MS,
  requestTimeout: CLIENT_REQUEST_TIMEOUT_MS,
  maxHeaderSize: MAX_REQUEST_HEADER_BYTES,
  // We answer a missing Host ourselves, with the same plain-text body as every other error.
  requireHostHeader: false,
};

export class ProxyServer {
  readonly #listeners: ListenerConfig[];
  readonly #logger: Logger;
  readonly #servers: Server[] = [];
  readonly #connections = new Set<Socket>();
  readonly #pools = new UpstreamPools();
  readonly #owner: ExchangeOwner;
  #compiled: CompiledGeneration | undefined;
  #activeRequests = 0;
  #draining = false;
  /** Set by drain() while it waits for the last connection to close. */
  #allClosed: (() => void) | undefined;

  constructor(options: ProxyServerOptions) {
    this.#listeners = options.listeners;
    this.#logger = options.logger;
    const accessLogger = options.accessLog ? options.logger : undefined;
    // The exchanges see the server only through this narrow view.
    const server = this;
    this.#owner = {
      accessLogger,
      logger: options.logger,
      get draining() {
        return server.#draining;
      },
      exchangeClosed() {
        server.#activeRequests--;
      },
    };
  }

  get generation(): Generation | undefined {
    return this.#compiled?.generation;
  }

  /** Binds every listener; resolves with the bound "address:port" of each, in config order. */
  async listen(): Promise<string[]> {
    const bound: string[] = [];
    for (const listener of this.#listeners) {
      const server = await this.#createServer(listener);
      bound.push(await listenOn(server, listener));
      this.#servers.push(server);
    }
    return bound;
  }

  /** Compiles a generation and makes it the one new requests use. */
  apply(generation: Generation): void {
    const compiled = compileGeneration(generation, this.#pools, this.#compiled);
    this.#compiled = compiled;
    // Pools only the previous generation used finish their in-flight requests, then close.
    this.#pools.retainOnly(compiled.pools).catch((error: unknown) => {
      this.#logger.warn({ event: 'pool_close_failed', err: error }, 'closing unused upstream pools failed');
    });
  }

  stats(): ProxyStats {
    return { activeConnections: this.#connections.size, activeRequests: this.#activeRequests, sites: this.#compiled?.sites.length ?? 0 };
  }

  siteLines(): string[] {
    return this.#compiled ? describeSites(this.#compiled) : [];
  }

  /**
   * Stops accepting, lets in-flight requests finish (their responses carry
   * `Connection: close`), closes idle keep-alive connections, and after `timeoutMs` destroys
   * whatever is left. Resolves once every connection is closed.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    // Stop accepting, but leave idle keep-alive connections open: closing one races with a
    // client that is sending on it right then, and that request would fail. Each connection is
    // instead closed after its next response (which carries `Connection: close`), like
    // Envoy's drain and HAProxy's idle-close-on-response; the deadline closes the rest.
    // (http.Server#close would close idle connections at once, so net.Server#close is used.)
    const closed = Promise.all(this.#servers.map((server) => new Promise<void>((resolve) => netServerClose.call(server, () => resolve()))));
    // A connection still idle after the grace had no request since drain began: a client
    // parked on it (a load balancer's pool) would otherwise hold shutdown to the deadline.
    const idleSweep = setTimeout(() => {
      for (const server of this.#servers) server.closeIdleConnections();
    }, DRAIN_IDLE_GRACE_MS);
    let deadlineHit = false;
    const deadline = setTimeout(() => {
      deadlineHit = true;
      for (const socket of this.#connections) socket.destroy();
    }, timeoutMs);
    await closed;
    clearTimeout(idleSweep);
    // The servers report closed as their count drops; wait for the sockets' own close events
    // too, so stats() reads zero once drain() resolves.
    if (this.#connections.size > 0) await new Promise<void>((resolve) => (this.#allClosed = resolve));
    clearTimeout(deadline);
    await (deadlineHit ? this.#pools.destroyAll() : this.#pools.closeAll());
  }

  async #createServer(listener: ListenerConfig): Promise<Server> {
    let server: Server;
    if (listener.tls_cert !== undefined && listener.tls_key !== undefined) {
      const files = await loadTlsFiles(listenerName(listener), listener.tls_cert, listener.tls_key);
      server = createHttpsServer({ ...SERVER_OPTIONS, ...files });
    } else {
      server = http.createServer(SERVER_OPTIONS);
    }
    const proto = listener.tls_cert !== undefined ? 'https' : 'http';
    server.on('connection', (socket: Socket) => {
      this.#connections.add(socket);
      socket.once('close', () => {
        this.#connections.delete(socket);
        if (this.#connections.size === 0) this.#allClosed?.();
      });
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res, proto, false));
    // Answering Expect: 100-continue ourselves lets a body over the limit (or for an unknown
    // host) be refused before the client sends it.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res, proto, true));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket as Socket, head, proto));
    return server;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse, proto: string, expectsContinue: boolean): void {
    const remote = clientAddress(req.socket);
    const exchange = new Exchange(this.#owner, req, res, remote);
    this.#activeRequests++;
    const head = readClientHead(req.rawHeaders);
    const admission = admit(this.#compiled, req.url ?? '/', req.httpVersion, head, remote);
    exchange.host = admission.host;
    if (!admission.ok) {
      exchange.reply(admission.reply, admission.code);
      return;
    }
    const site = admission.site;
    if (site.bodyLimitBytes !== undefined && head.contentLength > site.bodyLimitBytes) {
      exchange.reply(BODY_TOO_LARGE_REPLY, 'ERR_BODY_LIMIT');
      return;
    }
    if (expectsContinue) res.writeContinue();
    req.socket.setTimeout(site.clientIdleTimeoutMs);
    head.host = admission.authority;
    exchange.forward({
      site,
      method: req.method ?? 'GET',
      path: admission.path,
      headers: upstreamRequestHeaders(head, { remote, proto, preserveHost: site.preserveHost, via: site.via }),
      body: requestBody(req, head, site),
    });
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, proto: string): void {
    const remote = clientAddress(socket);
    const tunnel = new Tunnel(this.#owner, req, socket, head, remote);
    this.#activeRequests++;
    const clientHead = readClientHead(req.rawHeaders);
    const admission = admit(this.#compiled, req.url ?? '/', req.httpVersion, clientHead, remote);
    tunnel.host = admission.host;
    if (!admission.ok) {
      tunnel.reply(admission.reply, admission.code);
      return;
    }
    // A tunnel can outlive any drain deadline; refuse to start one that would be cut anyway.
    if (this.#draining) {
      tunnel.reply({ status: 503, message: 'shutting down' }, 'ERR_SHUTTING_DOWN');
      return;
    }
    const site = admission.site;
    clientHead.host = admission.authority;
    tunnel.forward({
      site,
      method: req.method ?? 'GET',
      path: admission.path,
      headers: upstreamRequestHeaders(clientHead, { remote, proto, preserveHost: site.preserveHost, via: site.via }),
      protocol: req.headers.upgrade ?? 'websocket',
    });
  }
}

/** The body to stream upstream: none, the request itself, or the request through the limit. */
function requestBody(req: IncomingMessage, head: ClientHead, site: CompiledSite): Readable | null {
  if (head.chunked) {
    if (site.bodyLimitBytes === undefined) return req;
    const limited = new BodyLimitStream(site.bodyLimitBytes);
    req.on('error', (error) => limited.destroy(error));
    // undici reports the stream's errors while the exchange runs and detaches when it ends; an
    // error after that (the client aborting a body the upstream did not wait for) must not
    // become an unhandled 'error' that takes the worker down.
    limited.on('error', () => undefined);
    return req.pipe(limited);
  }
  return head.contentLength > 0 ? req : null;
}

/** The client's IP as people write it: IPv4-mapped IPv6 addresses shown as plain IPv4. */
function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function listenerName(listener: ListenerConfig): string {
  return formatAddress(listener.address, listener.port);
}

function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'no such address on this host',
  EACCES: 'permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE)',
};

function listenOn(server: Server, listener: ListenerConfig): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new ListenerError(listenerName(listener), `cannot listen: ${describeErrno(error, LISTEN_ERRORS)}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen({ host: listener.address, port: listener.port }, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      resolve(formatAddress(address.address, address.port));
    });
  });
}
