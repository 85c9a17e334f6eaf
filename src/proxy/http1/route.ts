// From a parsed request head to what the connection does with it: a reply of the proxy's own
// (CONNECT, `OPTIONS *`, and every refusal of admit(): Host, site, rate limit, body limit,
// upgrades while draining), a site's https redirect, a route's redirect or fixed response, or
// the request to forward: its target after any prefix rewrite, its upstream headers built with
// the route's header rules applied before the proxy's own, so no rule can undo those.
import type { Logger } from '../../log.ts';
import type { AccessRecord } from '../access-log.ts';
import { meterRoute, meterRouted } from '../../metrics/tap.ts';
import { admit } from '../admission.ts';
import type { CompiledGeneration, CompiledSite } from '../generation.ts';
import { readClientHead, upstreamRequestHeaders } from '../headers.ts';
import type { RequestIds } from '../request-id.ts';
import type { ProxyReply } from '../responses.ts';
import { applyHeaderRules, type HeaderRules } from '../routes/header-rules.ts';
import type { Handling } from '../routes/handling.ts';
import type { RouteMatch } from '../routes/route-table.ts';
import { httpsLocation, redirectLocation, rewriteTarget } from '../routes/rewrite.ts';
import { BODY_TOO_LARGE_REPLY } from '../upstream-errors.ts';
import type { ForwardRequest } from './exchange-sides.ts';
import type { RequestHead } from './message.ts';

/** The worker-wide side of every client connection. */
export interface ConnectionOwner {
  /** The generation new requests use. */
  readonly compiled: CompiledGeneration | undefined;
  /** True once drain() began: responses ask the client to close the connection. */
  readonly draining: boolean;
  /** Request IDs on: the header and the worker's ID maker. */
  readonly requestIds: RequestIds | undefined;
  readonly logger: Logger;
  /** Set only when access logging is on, so the off case costs one comparison. */
  readonly accessLogger: Logger | undefined;
  readonly timeouts: ClientTimeouts;
  requestStarted(): void;
  requestEnded(): void;
  connectionClosed(connection: unknown): void;
}

export interface ClientTimeouts {
  readonly headerMs: number;
  readonly bodyMs: number;
  readonly keepAliveMs: number;
  /** keepalive_timeout_secs, as advertised in `Keep-Alive: timeout=`. */
  readonly keepAliveSecs: number;
}

/** What a connection knows from the listener it was accepted on. */
export interface ConnectionContext {
  readonly owner: ConnectionOwner;
  /** `http` or `https`, for X-Forwarded-Proto. */
  readonly proto: string;
}

export type Routed =
  /** `code` undefined: a redirect or fixed response the config asked for, not a refusal. */
  | { ok: false; reply: ProxyReply; code: string | undefined }
  | { ok: true; handling: Handling; request: ForwardRequest; sendContinue: boolean };

const ALLOWED_METHODS = ['allow', 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH'];
const CONNECT_REPLY: ProxyReply = { status: 405, message: 'CONNECT is not supported', headers: ALLOWED_METHODS, close: true };
const SERVER_OPTIONS_REPLY: ProxyReply = { status: 200, message: 'ok', headers: ALLOWED_METHODS };
const ASTERISK_REPLY: ProxyReply = { status: 400, message: 'request target * is for OPTIONS only', close: true };
const DRAINING_UPGRADE_REPLY: ProxyReply = { status: 503, message: 'shutting down' };

/** The reply headers a route's response rules leave (a rule set applies to the proxy's own answers too). */
function withRules(headers: string[], rules: HeaderRules | undefined): string[] {
  return rules === undefined ? headers : applyHeaderRules(headers, rules);
}

function redirectReply(status: number, location: string, rules?: HeaderRules): ProxyReply {
  return { status, message: `redirecting to ${location}`, headers: withRules(['location', location], rules) };
}

/** The request is the site's (and the matched route's) from here on: in flight in their records. */
function meterSite(record: AccessRecord, site: CompiledSite, match: RouteMatch<Handling> | undefined): void {
  meterRouted(record, site.metrics);
  if (match !== undefined) {
    const routeRecord = site.metrics.routeByName.get(match.route.name);
    if (routeRecord !== undefined) meterRoute(record, routeRecord);
  }
}

export function route(head: RequestHead, record: AccessRecord, context: ConnectionContext, remote: string, bodyDone: boolean): Routed {
  if (head.method === 'CONNECT') return { ok: false, reply: CONNECT_REPLY, code: 'ERR_METHOD_NOT_ALLOWED' };
  // `OPTIONS *` asks about the server itself: the proxy is that server.
  if (head.target === '*') return head.method === 'OPTIONS' ? { ok: false, reply: SERVER_OPTIONS_REPLY, code: 'ERR_SERVER_OPTIONS' } : { ok: false, reply: ASTERISK_REPLY, code: 'ERR_INVALID_TARGET' };
  const owner = context.owner;
  const clientHead = readClientHead(head.headers, owner.requestIds?.header, head.fieldKinds);
  // Every request that reaches routing has an ID, refused ones included (their reply carries it).
  if (owner.requestIds !== undefined) record.requestId = owner.requestIds.keepOrMake(clientHead.requestId);
  // RFC 9112 §3.2.2: the authority of an absolute-form target wins over Host.
  if (head.authority !== undefined) clientHead.host = head.authority;
  const admission = admit(owner.compiled, head.method, head.target, head.versionMinor === 1 ? '1.1' : '1.0', clientHead, remote);
  record.host = admission.host;
  if (!admission.ok) {
    if (admission.site !== undefined) meterSite(record, admission.site, admission.match);
    return { ok: false, reply: admission.reply, code: admission.code };
  }
  const { site, handling, match } = admission;
  meterSite(record, site, match);
  record.route = handling.route;
  // Before any route: an http:// request of such a site only ever learns where to go instead.
  if (site.httpsRedirect && context.proto === 'http' && admission.host !== '') return { ok: false, reply: redirectReply(308, httpsLocation(admission.host, admission.path)), code: undefined };
  const action = match?.route.action;
  if (action?.kind === 'redirect') {
    return { ok: false, reply: redirectReply(action.status, redirectLocation(action.to, action.keepPath, match!.remainder, match!.query), handling.responseRules), code: undefined };
  }
  if (action?.kind === 'respond') {
    const reply: ProxyReply = { status: action.status, message: '', body: action.body, contentType: action.contentType, headers: withRules([], handling.responseRules) };
    return { ok: false, reply, code: undefined };
  }
  if (handling.bodyLimitBytes !== undefined && head.contentLength > handling.bodyLimitBytes) return { ok: false, reply: BODY_TOO_LARGE_REPLY, code: 'ERR_BODY_LIMIT' };
  // h2c is a different protocol on the same connection; the upstream never hears of it.
  const upgrade = head.upgrade !== undefined && head.upgrade.toLowerCase() !== 'h2c' ? head.upgrade : undefined;
  // A tunnel can outlive any drain deadline; refuse to start one that would be cut anyway.
  if (upgrade !== undefined && owner.draining) return { ok: false, reply: DRAINING_UPGRADE_REPLY, code: 'ERR_SHUTTING_DOWN' };
  clientHead.host = admission.authority;
  if (handling.requestRules !== undefined) clientHead.forwarded = applyHeaderRules(clientHead.forwarded, handling.requestRules);
  const headers = upstreamRequestHeaders(clientHead, { remote, proto: context.proto, preserveHost: handling.preserveHost, via: handling.via });
  if (record.requestId !== undefined) headers.push((owner.requestIds as RequestIds).header, record.requestId);
  const rewrite = action?.kind === 'forward' ? action.rewrite : undefined;
  const request: ForwardRequest = {
    handling,
    method: head.method,
    target: rewrite === undefined ? admission.path : rewriteTarget(rewrite, match!.remainder, match!.query),
    headers,
    remote,
    upstreamHost: !(handling.preserveHost && clientHead.host !== undefined),
    bodyFraming: bodyDone ? 'none' : head.chunked ? 'chunked' : 'length',
    upgrade,
  };
  // Answering Expect: 100-continue ourselves, after these checks, lets a body over the limit
  // (or for an unknown host) be refused before the client sends it.
  return { ok: true, handling, request, sendContinue: head.expectContinue && head.versionMinor === 1 && !bodyDone };
}
