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
import { MAX_HELD_RESPONSE_BYTES, UPSTREAM_FAIL_TIMEOUT_MS } from './limits.ts';
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
  /** The upstream's Content-Length, or undefined when the body's end is not announced. */
  #responseBodyLength: number | undefined;
  /** True while client writes are corked until the end of this event-loop turn. */
  #holdingWrites = false;
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
    const length = Number(headers['content-length']);
    this.#responseBodyLength = Number.isSafeInteger(length) ? length : undefined;
    res.writeHead(statusCode, clientResponseHeaders(headers, (this.#forward as ForwardRequest).site.via));
  }

  /**
   * undici hands over each read from the upstream socket as it happens, and libuv reads at most
   * 64 KiB at a time, so a 64 KiB body plus its head arrives as two chunks in the same turn. When
   * more of the body is still to come, writes are corked until the turn ends and leave in one
   * writev: one syscall and one write request fewer per chunk gathered (bench/findings.md). A
   * body that ends with this chunk is written at once, as is everything on a client that is
   * already behind: backpressure is checked on every chunk, MAX_HELD_RESPONSE_BYTES at most.
   */
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bytesOut += chunk.length;
    const res = this.#res;
    if (!this.#holdingWrites && this.#moreBodyFollows() && res.socket !== null) {
      // The socket, not the response: a ServerResponse corked with its own cork(), written to
      // in chunked encoding and ended reaches the client with its first chunk only (Node 24.21).
      this.#holdingWrites = true;
      res.socket.cork();
      setImmediate(this.#releaseWrites);
    }
    if (res.write(chunk)) return;
    if (this.#holdingWrites && res.writableLength <= MAX_HELD_RESPONSE_BYTES) return; // #releaseWrites decides
    this.#pauseUpstream(controller);
  }

  #moreBodyFollows(): boolean {
    return this.#responseBodyLength === undefined || this.#bytesOut < this.#responseBodyLength;
  }

  readonly #releaseWrites = (): void => {
    this.#holdingWrites = false;
    const res = this.#res;
    // end() has already flushed and fully uncorked; the socket may serve the next request now.
    if (res.writableEnded || res.socket === null) return;
    res.socket.uncork();
    if (res.writableNeedDrain && this.#controller) this.#pauseUpstream(this.#controller);
  };

  /**
   * The client reads slower than the upstream sends: stop reading the upstream until the
   * client's socket drains, so nothing piles up in memory.
   */
  #pauseUpstream(controller: Dispatcher.DispatchController): void {
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
