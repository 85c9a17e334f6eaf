// The responses the proxy produces itself (never the upstream's): plain text, one line, status
// code first, so `curl` output and logs read the same. No internals, no stack traces.

/** nginx's status for "client closed the connection before the response was sent"; logged only. */
export const CLIENT_CLOSED_STATUS = 499;

/** nginx's status for "closed without a response", logged for a request the drain deadline cut. */
export const DRAIN_CUT_STATUS = 444;

export interface ProxyReply {
  status: number;
  /** Shown after the status code, e.g. `no site for host "x"`. */
  message: string;
  /** Extra headers such as Retry-After. */
  headers?: readonly string[];
  /** Close the client connection afterwards (an unread request body is still on the wire). */
  close?: boolean;
  /** A route's `respond`: this body and type instead of the plain-text status line. */
  body?: Buffer;
  contentType?: string;
}

/** The plain-text body of a reply. */
export function replyBody(reply: ProxyReply): Buffer {
  return reply.body ?? Buffer.from(`${reply.status} ${reply.message}\n`);
}

/** The reply's own fields (the writer adds Date and the connection lines). */
export function replyFields(reply: ProxyReply, length: number): string[] {
  // The proxy's own answers are never cached; a route's fixed response is the operator's to mark.
  const headers = reply.body === undefined ? ['content-type', 'text/plain; charset=utf-8', 'content-length', String(length), 'cache-control', 'no-store'] : ['content-type', reply.contentType ?? 'text/plain; charset=utf-8', 'content-length', String(length)];
  if (reply.headers) headers.push(...reply.headers);
  return headers;
}
