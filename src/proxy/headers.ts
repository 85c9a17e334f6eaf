// Header rewriting in both directions. Works on flat [name, value, name, value…] arrays, the
// shape the HTTP/1.1 parser produces and the writer takes, so no per-request objects are
// built. Which names the proxy acts on is fixed (the kinds of http1/field-kinds.ts); per-site
// choices (Host, Via) are flags on the compiled site.

import { CONNECTION, CONTENT_LENGTH, FIELD_KINDS, HOP_BY_HOP, HOST, SET_BY_PROXY, TRANSFER_ENCODING, VIA, X_FORWARDED_FOR, fieldKind, sameLowerCase } from './http1/field-kinds.ts';

/** Value the proxy adds to `Via` when a site sets `via = true`. */
export const VIA_TOKEN = '1.1 reverse-proxy';

/**
 * Hop-by-hop headers (the HOP_BY_HOP kinds): they describe one connection and are not
 * forwarded in either direction, nor is any header a `Connection` header names. A client's
 * request headers of a SET_BY_PROXY kind (Host, X-Forwarded-For/Proto/Host, X-Real-IP, Via,
 * and Expect, which the proxy answers itself) are not forwarded as sent either: the proxy
 * writes them from what it knows, so a client cannot spoof them.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set(FIELD_KINDS.filter(([, kind]) => (kind & HOP_BY_HOP) !== 0).map(([name]) => name));

/** Whether `name` is the request-ID header (`requestIdHeader`, lower-case, or undefined when IDs are off). */
function isRequestIdHeader(name: string, requestIdHeader: string | undefined): boolean {
  return requestIdHeader !== undefined && name.length === requestIdHeader.length && sameLowerCase(name, requestIdHeader);
}

/** What the request path needs from a client's request head, read in one pass. */
export interface ClientHead {
  /**
   * The Host to forward, as the client wrote it: its Host header, or the authority of an
   * absolute-form target once routing has replaced it.
   */
  host: string | undefined;
  /** Existing X-Forwarded-For values, joined with ", ". */
  forwardedFor: string | undefined;
  /** Existing Via values, joined with ", ". */
  via: string | undefined;
  /** Declared Content-Length, or -1 when absent. */
  contentLength: number;
  /** The client sent Transfer-Encoding (a chunked body of unknown length). */
  chunked: boolean;
  /** End-to-end headers to forward unchanged, as flat name/value pairs. */
  forwarded: string[];
  /**
   * The request-ID header's value when `readClientHead` was given its name (request IDs on). The
   * header itself is kept out of `forwarded`; routing adds the ID it settles on.
   */
  requestId: string | undefined;
}

/** `kinds`: the parser's kind of each name (`fieldKinds`); without them each name is classified here. */
export function readClientHead(rawHeaders: readonly string[], requestIdHeader?: string, kinds?: readonly number[]): ClientHead {
  const head: ClientHead = { host: undefined, forwardedFor: undefined, via: undefined, contentLength: -1, chunked: false, forwarded: [], requestId: undefined };
  let connection: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    if (isRequestIdHeader(name, requestIdHeader)) {
      head.requestId ??= value;
      continue;
    }
    const kind = kinds === undefined ? fieldKind(name) : (kinds[i >> 1] as number);
    if ((kind & (HOP_BY_HOP | SET_BY_PROXY)) === 0) {
      head.forwarded.push(name, value);
      if (kind === CONTENT_LENGTH) head.contentLength = Number(value);
      continue;
    }
    switch (kind) {
      case HOST:
        head.host ??= value;
        break;
      case X_FORWARDED_FOR:
        head.forwardedFor = head.forwardedFor === undefined ? value : `${head.forwardedFor}, ${value}`;
        break;
      case VIA:
        head.via = head.via === undefined ? value : `${head.via}, ${value}`;
        break;
      case TRANSFER_ENCODING:
        head.chunked = true;
        break;
      case CONNECTION:
        connection = connection === undefined ? value : `${connection},${value}`;
        break;
    }
  }
  if (connection !== undefined) head.forwarded = withoutConnectionNamed(head.forwarded, connection);
  return head;
}

export interface ForwardingContext {
  /** Client address as written into X-Forwarded-For and X-Real-IP. */
  remote: string;
  /** "http" or "https", from the listener the request arrived on. */
  proto: string;
  preserveHost: boolean;
  via: boolean;
}

/** The header list sent upstream: the client's end-to-end headers plus the proxy's own. */
export function upstreamRequestHeaders(head: ClientHead, context: ForwardingContext): string[] {
  const headers = head.forwarded;
  // Without preserve_host the request writer adds the chosen upstream's own host:port.
  if (context.preserveHost && head.host !== undefined) headers.push('host', head.host);
  headers.push(
    'x-forwarded-for',
    head.forwardedFor === undefined ? context.remote : `${head.forwardedFor}, ${context.remote}`,
    'x-forwarded-proto',
    context.proto,
    'x-real-ip',
    context.remote,
  );
  if (head.host !== undefined) headers.push('x-forwarded-host', head.host);
  if (context.via) headers.push('via', head.via === undefined ? VIA_TOKEN : `${head.via}, ${VIA_TOKEN}`);
  else if (head.via !== undefined) headers.push('via', head.via);
  return headers;
}

/**
 * The header list sent to the client: the upstream's end-to-end headers (+ Via). With request
 * IDs on (`requestIdHeader`, lower-case), an upstream's own copy of that header is dropped: the
 * proxy sends the request's ID itself. `kinds`: the parser's kind of each name (`fieldKinds`),
 * when `upstream` is the parsed list; without them each name is classified here.
 */
export function clientResponseHeaders(upstream: readonly string[], via: boolean, requestIdHeader?: string, kinds?: readonly number[]): string[] {
  const headers: string[] = [];
  let connection: string | undefined;
  let priorVia: string | undefined;
  for (let i = 0; i + 1 < upstream.length; i += 2) {
    const name = upstream[i] as string;
    const value = upstream[i + 1] as string;
    if (isRequestIdHeader(name, requestIdHeader)) continue;
    const kind = kinds === undefined ? fieldKind(name) : (kinds[i >> 1] as number);
    if ((kind & HOP_BY_HOP) !== 0) {
      if (kind === CONNECTION) connection = connection === undefined ? value : `${connection},${value}`;
      continue;
    }
    if (via && kind === VIA) {
      priorVia = priorVia === undefined ? value : `${priorVia}, ${value}`;
      continue;
    }
    headers.push(name, value);
  }
  if (via) headers.push('via', priorVia === undefined ? VIA_TOKEN : `${priorVia}, ${VIA_TOKEN}`);
  return connection === undefined ? headers : withoutConnectionNamed(headers, connection);
}

/** Drops every header named as a token of a Connection header value. */
function withoutConnectionNamed(headers: string[], connection: string): string[] {
  // Nearly every message says just "keep-alive" or "close", which name no header to drop.
  const plain = connection.toLowerCase();
  if (plain === 'keep-alive' || plain === 'close') return headers;
  const named = new Set(plain.split(',').map((token) => token.trim()).filter((token) => token !== '' && token !== 'close' && !HOP_BY_HOP_HEADERS.has(token)));
  if (named.size === 0) return headers;
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!named.has(name.toLowerCase())) kept.push(name, headers[i + 1] as string);
  }
  return kept;
}
