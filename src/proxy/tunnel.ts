// HTTP/1.1 Upgrade (WebSocket and friends): the handshake goes through the upstream pool like
// any request, and once the upstream answers 101 both sockets are piped together until either
// side closes. Tunnels have no idle timeout (nginx's default 60 s proxy_read_timeout silently
// kills quiet WebSockets); TCP keep-alive detects dead peers instead.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { ClientClosedError } from '../errors.ts';
import { http } from '../node-http.ts';
import { logAccess, logUpstreamError } from './access-log.ts';
import type { ExchangeOwner } from './exchange.ts';
import { pickUpstream, type CompiledSite } from './generation.ts';
import { clientResponseHeaders } from './headers.ts';
import type { UpstreamDispatchOptions, UpstreamPool } from './pools.ts';
import { CLIENT_CLOSED_STATUS, writeReplyToSocket, type ProxyReply } from './responses.ts';
import { INVALID_REQUEST_REPLY, isInvalidRequest, replyFor, toProxyError } from './upstream-errors.ts';

export interface UpgradeRequest {
  readonly site: CompiledSite;
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  /** The client's Upgrade header value, e.g. "websocket". */
  readonly protocol: string;
}

export class Tunnel implements Dispatcher.DispatchHandler {
  readonly #owner: ExchangeOwner;
  readonly #req: IncomingMessage;
  readonly #client: Socket;
  readonly #head: Buffer;
  readonly #remote: string;
  readonly #startedAt = performance.now();
  host: string | undefined;
  #site: CompiledSite | undefined;
  #upstream: UpstreamPool | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #upstreamSocket: Socket | undefined;
  #responded = false;
  #status = 0;
  #errorCode: string | undefined;

  constructor(owner: ExchangeOwner, req: IncomingMessage, client: Socket, head: Buffer, remote: string) {
    this.#owner = owner;
    this.#req = req;
    this.#client = client;
    this.#head = head;
    this.#remote = remote;
    client.on('error', noop);
    client.once('close', this.#onClientClose);
  }

  reply(reply: ProxyReply, errorCode?: string): void {
    this.#respond(reply.status);
    this.#errorCode = errorCode;
    writeReplyToSocket(this.#client, reply);
  }

  forward(request: UpgradeRequest): void {
    const site = request.site;
    this.#site = site;
    const upstream = pickUpstream(site);
    this.#upstream = upstream;
    const options: UpstreamDispatchOptions = {
      path: request.path,
      method: request.method,
      headers: request.headers,
      upgrade: request.protocol,
      headersTimeout: site.requestTimeoutMs,
      servername: upstream.servername,
    };
    upstream.pool.dispatch(options, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#client.destroyed) controller.abort(new ClientClosedError());
  }

  onRequestUpgrade(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Socket): void {
    this.#upstreamSocket = socket;
    const client = this.#client;
    if (client.destroyed) {
      socket.destroy();
      return;
    }
    this.#respond(statusCode);
    const upgrade = typeof headers.upgrade === 'string' ? headers.upgrade : 'websocket';
    client.write(responseHead(statusCode, headers, this.#site?.via ?? false, ['connection', 'upgrade', 'upgrade', upgrade]));
    if (this.#head.length > 0) socket.write(this.#head);
    for (const side of [client, socket]) {
      side.setTimeout(0);
      side.setKeepAlive(true);
      side.setNoDelay(true);
    }
    socket.on('error', noop);
    // The client's close is handled by #onClientClose, which also writes the access log.
    socket.once('close', () => client.destroy());
    socket.pipe(client);
    client.pipe(socket);
  }

  /** The upstream declined the upgrade with an ordinary response: relay it, then close. */
  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.#respond(statusCode);
    this.#client.write(responseHead(statusCode, headers, this.#site?.via ?? false, ['connection', 'close']));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#client.write(chunk)) return;
    controller.pause();
    this.#client.once('drain', () => controller.resume());
  }

  onResponseEnd(): void {
    this.#client.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.#client.destroyed) return;
    if (isInvalidRequest(error)) {
      this.reply(INVALID_REQUEST_REPLY, 'ERR_INVALID_REQUEST');
      return;
    }
    const proxyError = toProxyError(error, this.#upstream?.origin ?? '');
    logUpstreamError(this.#owner.logger, proxyError, { upstream: this.#upstream?.origin, host: this.host, path: this.#req.url });
    if (this.#responded) {
      this.#errorCode = proxyError.code;
      this.#client.destroy();
      return;
    }
    this.reply(replyFor(proxyError), proxyError.code);
  }

  #respond(status: number): void {
    this.#responded = true;
    this.#status = status;
  }

  readonly #onClientClose = (): void => {
    if (!this.#responded) {
      this.#status = CLIENT_CLOSED_STATUS;
      this.#errorCode = 'ERR_CLIENT_CLOSED';
    }
    this.#controller?.abort(new ClientClosedError());
    this.#upstreamSocket?.destroy();
    this.#owner.exchangeClosed();
    const logger = this.#owner.accessLogger;
    if (logger === undefined) return;
    logAccess(logger, {
      method: this.#req.method,
      host: this.host,
      path: this.#req.url,
      status: this.#status,
      upstream: this.#upstream?.origin,
      startedAt: this.#startedAt,
      // For a tunnel these are the bytes of the whole connection, handshake included.
      bytesIn: this.#client.bytesRead,
      bytesOut: this.#client.bytesWritten,
      remote: this.#remote,
      error: this.#errorCode,
    });
  };
}

function noop(): void {}

/** A raw HTTP/1.1 response head: the upstream's end-to-end headers plus `extra`. */
function responseHead(status: number, headers: IncomingHttpHeaders, via: boolean, extra: readonly string[]): string {
  const lines = [...clientResponseHeaders(headers, via), ...extra];
  let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n`;
  for (let i = 0; i + 1 < lines.length; i += 2) head += `${lines[i]}: ${lines[i + 1]}\r\n`;
  return `${head}\r\n`;
}
