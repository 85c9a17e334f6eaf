// One client request from arrival to the last byte: forwards it over an upstream pool with
// undici's dispatch API (raw header arrays, no intermediate streams), streams the response back
// with backpressure both ways, answers failures itself, and writes the access-log line.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ClientClosedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { logAccess, logUpstreamError } from './access-log.ts';
import { pickUpstream, type CompiledSite } from './generation.ts';
import { clientResponseHeaders } from './headers.ts';
import { UPSTREAM_FAIL_TIMEOUT_MS } from './limits.ts';
import { ejectUpstream, type UpstreamDispatchOptions, type UpstreamPool } from './pools.ts';
import { CLIENT_CLOSED_STATUS, sendReply, type ProxyReply } from './responses.ts';
import { INVALID_REQUEST_REPLY, isConnectFailure, isInvalidRequest, replyFor, toProxyError } from './upstream-errors.ts';

/** What an exchange needs from the server that owns it. */
export interface ExchangeOwner {
  /** Set only when access logging is on, so the off case costs one comparison. */
  readonly accessLogger: Logger | undefined;
  readonly logger: Logger;
  /** True once drain() began: responses ask the client to close the connection. */
  readonly draining: boolean;
  exchangeClosed(): void;
}

export interface ForwardRequest {
  readonly site: CompiledSite;
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  readonly body: Readable | null;
}

export class Exchange implements Dispatcher.DispatchHandler {
  readonly #owner: ExchangeOwner;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #startedAt = performance.now();
  readonly #remote: string;
  /** Normalized host the request was routed on, for the logs (unset if Host was unusable). */
  host: string | undefined;
  #forward: ForwardRequest | undefined;
  #upstream: UpstreamPool | undefined;
  #attempts = 0;
  #controller: Dispatcher.DispatchController | undefined;
  #clientGone = false;
  #listeningForDrain = false;
  #status = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  #errorCode: string | undefined;

  constructor(owner: ExchangeOwner, req: IncomingMessage, res: ServerResponse, remote: string) {
    this.#owner = owner;
    this.#req = req;
    this.#res = res;
    this.#remote = remote;
    res.on('close', this.#onClose);
  }

  /** Answers with a proxy-generated reply (routing errors, limits). */
  reply(reply: ProxyReply, errorCode?: string): void {
    this.#status = reply.status;
    this.#errorCode = errorCode;
    this.#bytesOut += sendReply(this.#res, this.#closingIfDraining(reply));
  }

  forward(request: ForwardRequest): void {
    this.#forward = request;
    this.#dispatch();
  }

  #dispatch(): void {
    const request = this.#forward as ForwardRequest;
    const site = request.site;
    const upstream = pickUpstream(site);
    this.#upstream = upstream;
    this.#attempts++;
    const options: UpstreamDispatchOptions = {
      path: request.path,
      method: request.method,
      headers: request.headers,
      body: request.body,
      headersTimeout: site.requestTimeoutMs,
      bodyTimeout: site.requestTimeoutMs,
      servername: upstream.servername,
    };
    upstream.pool.dispatch(options, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#clientGone) controller.abort(new ClientClosedError());
  }

  onBodySent(chunk: Buffer): void {
    this.#bytesIn += chunk.length;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx interim responses (103 Early Hints) are not relayed; the final one follows.
    if (statusCode < 200) return;
    this.#status = statusCode;
    const res = this.#res;
    if (this.#owner.draining) res.shouldKeepAlive = false;
    res.writeHead(statusCode, clientResponseHeaders(headers, (this.#forward as ForwardRequest).site.via));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bytesOut += chunk.length;
    if (this.#res.write(chunk)) return;
    // The client reads slower than the upstream sends: stop reading the upstream until the
    // client's socket drains, so nothing piles up in memory.
    controller.pause();
    if (!this.#listeningForDrain) {
      this.#listeningForDrain = true;
      this.#res.on('drain', this.#resumeUpstream);
    }
  }

  onResponseEnd(): void {
    this.#res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    // A client that went away is reported by #onClose; its side effects here are not failures.
    if (this.#clientGone || this.#req.socket.destroyed) return;
    const request = this.#forward as ForwardRequest;
    if (isInvalidRequest(error)) {
      this.reply(INVALID_REQUEST_REPLY, 'ERR_INVALID_REQUEST');
      return;
    }
    const upstream = this.#upstream;
    if (upstream && isConnectFailure(error) && request.site.upstreams.length > 1 && ejectUpstream(upstream)) {
      this.#owner.logger.warn(
        { event: 'upstream_down', upstream: upstream.origin, reason: toProxyError(error, upstream.origin).message, for_ms: UPSTREAM_FAIL_TIMEOUT_MS },
        `upstream ${upstream.origin} taken out of rotation for ${UPSTREAM_FAIL_TIMEOUT_MS} ms after a failed connect`,
      );
    }
    if (this.#canTryNextUpstream(error, request)) {
      this.#dispatch();
      return;
    }
    const proxyError = toProxyError(error, this.#upstream?.origin ?? '');
    this.#errorCode = proxyError.code;
    logUpstreamError(this.#owner.logger, proxyError, { upstream: this.#upstream?.origin, host: this.host, path: this.#req.url });
    if (this.#res.headersSent) {
      // Part of the response is already with the client; the only honest signal left is an
      // incomplete response, which the client sees as a broken connection.
      this.#res.destroy();
      return;
    }
    this.reply(replyFor(proxyError), proxyError.code);
  }

  /** Retrying is safe only when nothing of the request left the proxy: a failed connect. */
  #canTryNextUpstream(error: Error, request: ForwardRequest): boolean {
    return (
      this.#attempts < request.site.upstreams.length &&
      isConnectFailure(error) &&
      (request.body === null || !request.body.readableDidRead)
    );
  }

  #closingIfDraining(reply: ProxyReply): ProxyReply {
    return this.#owner.draining && !reply.close ? { ...reply, close: true } : reply;
  }

  readonly #resumeUpstream = (): void => {
    this.#controller?.resume();
  };

  readonly #onClose = (): void => {
    const res = this.#res;
    if (!res.writableFinished) {
      this.#clientGone = true;
      if (!res.headersSent) this.#status = CLIENT_CLOSED_STATUS;
      this.#errorCode ??= 'ERR_CLIENT_CLOSED';
      this.#controller?.abort(new ClientClosedError());
    }
    this.#owner.exchangeClosed();
    const accessLogger = this.#owner.accessLogger;
    if (accessLogger === undefined) return;
    logAccess(accessLogger, {
      method: this.#req.method,
      host: this.host,
      path: this.#req.url,
      status: this.#status,
      upstream: this.#upstream?.origin,
      startedAt: this.#startedAt,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      remote: this.#remote,
      error: this.#errorCode,
    });
  };
}
