// Header rewriting in both directions. Works on flat [name, value, name, value…] arrays, the
// shape the HTTP/1.1 parser produces and the writer takes, so no per-request objects are
// built. The sets below are fixed; per-site choices (Host, Via) are flags on the compiled site.

/** Value the proxy adds to `Via` when a site sets `via = true`. */
export const VIA_TOKEN = '1.1 reverse-proxy';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy ones nginx and HAProxy also drop):
 * they describe one connection and must not be forwarded, in either direction. Any header a
 * `Connection` header names is dropped too.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/**
 * Request headers the proxy writes itself from what it knows, so a client cannot spoof them
 * (X-Real-IP, X-Forwarded-Proto/Host) or they are merged (X-Forwarded-For, Via). `Expect` is
 * answered by the proxy: it sends `100 Continue` once the request passed its own checks.
 */
const SET_BY_PROXY: ReadonlySet<string> = new Set([
  'host',
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'via',
]);

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

export function readClientHead(rawHeaders: readonly string[], requestIdHeader?: string): ClientHead {
  const head: ClientHead = { host: undefined, forwardedFor: undefined, via: undefined, contentLength: -1, chunked: false, forwarded: [], requestId: undefined };
  let connection: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === requestIdHeader) {
      head.requestId ??= value;
      continue;
    }
    if (!HOP_BY_HOP_HEADERS.has(lower) && !SET_BY_PROXY.has(lower)) {
      head.forwarded.push(name, value);
      if (lower === 'content-length') head.contentLength = Number(value);
      continue;
    }
    switch (lower) {
      case 'host':
        head.host ??= value;
        break;
      case 'x-forwarded-for':
        head.forwardedFor = head.forwardedFor === undefined ? value : `${head.forwardedFor}, ${value}`;
        break;
      case 'via':
        head.via = head.via === undefined ? value : `${head.via}, ${value}`;
        break;
      case 'transfer-encoding':
        head.chunked = true;
        break;
      case 'connection':
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
 * proxy sends the request's ID itself.
 */
export function clientResponseHeaders(upstream: readonly string[], via: boolean, requestIdHeader?: string): string[] {
  const headers: string[] = [];
  let connection: string | undefined;
  let priorVia: string | undefined;
  for (let i = 0; i + 1 < upstream.length; i += 2) {
    const name = upstream[i] as string;
    const value = upstream[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === requestIdHeader) continue;
    if (HOP_BY_HOP_HEADERS.has(lower)) {
      if (lower === 'connection') connection = connection === undefined ? value : `${connection},${value}`;
      continue;
    }
    if (via && lower === 'via') {
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
