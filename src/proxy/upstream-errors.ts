// What a failed exchange with an upstream means for the client: which status the proxy answers
// with, and whether trying the next upstream is safe. The detailed cause goes to the log; the
// client only ever sees a short fixed message.
import { BodyLimitExceededError, ReverseProxyError, UpstreamTimeoutError, UpstreamUnreachableError } from '../errors.ts';
import type { ProxyReply } from './responses.ts';

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ERR_CONNECT_TIMEOUT', 'ERR_QUEUE_TIMEOUT', 'ERR_RESPONSE_TIMEOUT', 'ETIMEDOUT']);

/** Failures that happen before a request byte left the proxy: the next upstream may be tried. */
const CONNECT_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

export function isConnectFailure(error: unknown): boolean {
  return CONNECT_FAILURE_CODES.has(codeOf(error));
}

/** Wraps what the upstream connection reported (UpstreamIoError or a socket error) into one of our typed errors. */
export function toProxyError(error: unknown, origin: string): ReverseProxyError {
  if (error instanceof ReverseProxyError) return error;
  const code = codeOf(error);
  if (TIMEOUT_CODES.has(code)) return new UpstreamTimeoutError(origin, code, { cause: error });
  return new UpstreamUnreachableError(origin, code, { cause: error });
}

/** Closes the connection: the rest of the body is still on its way and will not be read. */
export const BODY_TOO_LARGE_REPLY: ProxyReply = { status: 413, message: 'request body too large', close: true };

/** The reply for a failure that happened before any response header reached the client. */
export function replyFor(error: ReverseProxyError): ProxyReply {
  if (error instanceof BodyLimitExceededError) return BODY_TOO_LARGE_REPLY;
  if (error instanceof UpstreamTimeoutError) return { status: 504, message: 'upstream timed out' };
  return { status: 502, message: 'upstream unavailable' };
}
