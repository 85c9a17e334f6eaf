// The heads the proxy writes on each side for a forwarded request, from what it decided:
// the request head for the upstream, and the upstream's response head as relayed to the client
// (its framing on this connection, the connection lines, the request ID, the route's response
// rules); the closing lines of the proxy's own replies come from here too. Pure text building, so the exchange keeps only the decisions of when and where.
import { clientResponseHeaders } from '../headers.ts';
import type { RequestIds } from '../request-id.ts';
import { applyHeaderRules } from '../routes/header-rules.ts';
import type { ForwardRequest } from './exchange-sides.ts';
import type { BodyFraming, ResponseHead } from './message.ts';
import { connectionLines, requestHead, responseHead } from './writer.ts';

/** What the client connection contributes to a relayed head. */
export interface HeadClient {
  readonly versionMinor: 0 | 1;
  readonly keepAliveSecs: number;
  readonly requestIds: RequestIds | undefined;
}

export interface RelayedHead {
  readonly text: string;
  /** The client connection may carry another request after this response. */
  readonly keepAlive: boolean;
  /** The body is re-framed as chunked for the client (it ends by close or is chunked upstream). */
  readonly chunked: boolean;
}

/** The lines every response to the client ends its head with: connection management, then the request's ID when IDs are on. */
export function clientLines(keepAlive: boolean, client: HeadClient, requestId: string | undefined): string {
  const lines = connectionLines(keepAlive, client.keepAliveSecs);
  const ids = client.requestIds;
  return requestId !== undefined && ids !== undefined ? `${lines}${ids.headerPrefix}${requestId}\r\n` : lines;
}

/**
 * The request head for the upstream; `authority` is sent as Host when the client's is not kept.
 * An HTTP/1.1 request is persistent unless it says otherwise (RFC 9112 §9.3), so it carries no
 * Connection line, as from nginx and HAProxy: every line sent is one more the upstream parses.
 */
export function upstreamHead(request: ForwardRequest, authority: string): string {
  let extra = request.upstreamHost ? `host: ${authority}\r\n` : '';
  if (request.upgrade !== undefined) extra += `connection: upgrade\r\nupgrade: ${request.upgrade}\r\n`;
  if (request.bodyFraming === 'chunked') extra += 'transfer-encoding: chunked\r\n';
  return requestHead(request.method, request.target, request.headers, extra);
}

/** The upstream's (non-101) response head as the client gets it; `keepAlive`: what the client connection allows. */
export function relayedHead(head: ResponseHead, framing: BodyFraming, request: ForwardRequest, client: HeadClient, keepAlive: boolean, requestId: string | undefined): RelayedHead {
  let extra = '';
  let chunked = false;
  if (framing === 'chunked' || framing === 'close') {
    if (client.versionMinor === 1) {
      extra = 'transfer-encoding: chunked\r\n';
      chunked = true;
    } else {
      keepAlive = false; // HTTP/1.0 has no chunked coding: the close ends the body
    }
  }
  extra += clientLines(keepAlive, client, requestId);
  const rules = request.handling.responseRules;
  const headers =
    rules === undefined
      ? clientResponseHeaders(head.headers, request.handling.via, client.requestIds?.header, head.fieldKinds)
      : clientResponseHeaders(applyHeaderRules(head.headers, rules), request.handling.via, client.requestIds?.header);
  return { text: responseHead(head.status, head.reason, headers, extra), keepAlive, chunked };
}

/** The 101 the client gets when the upstream accepted its upgrade to `upgrade`. */
export function switchingHead(head: ResponseHead, request: ForwardRequest, upgrade: string): string {
  return responseHead(101, head.reason, clientResponseHeaders(head.headers, request.handling.via), `connection: upgrade\r\nupgrade: ${upgrade}\r\n`);
}
