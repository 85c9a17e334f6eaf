// Serializes HTTP/1.1 message heads and body framing. A head is built as one latin1 string
// (header values are kept byte for byte as the parser read them), and a head with its body
// leaves in one writev: the socket is corked around the writes.
import type { Socket } from 'node:net';
import { httpDate } from './deadlines.ts';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? '';
}

/** What the proxy sends when it wants a request body announced with `Expect: 100-continue`. */
export const CONTINUE_HEAD = 'HTTP/1.1 100 Continue\r\n\r\n';

export const CHUNK_END = '\r\n';
export const LAST_CHUNK = '0\r\n\r\n';

/** The size line that opens one chunk of a chunked body. */
export function chunkSizeLine(length: number): string {
  return `${length.toString(16)}\r\n`;
}

function fieldLines(headers: readonly string[]): string {
  let lines = '';
  for (let i = 0; i + 1 < headers.length; i += 2) lines += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return lines;
}

/** `METHOD target HTTP/1.1`, the fields, then `extra` (already formatted lines), then the empty line. */
export function requestHead(method: string, target: string, headers: readonly string[], extra: string): string {
  return `${method} ${target} HTTP/1.1\r\n${fieldLines(headers)}${extra}\r\n`;
}

/** `HTTP/1.1 status reason`, the fields, then `extra` (already formatted lines), then the empty line. */
export function responseHead(status: number, reason: string, headers: readonly string[], extra: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\n${fieldLines(headers)}${extra}\r\n`;
}

/** The connection-management lines of a response to the client. */
export function connectionLines(keepAlive: boolean, keepAliveSecs: number): string {
  if (!keepAlive) return 'connection: close\r\n';
  // A whole number of seconds, rounded down so a client never counts on more than it gets.
  const advertised = Math.floor(keepAliveSecs);
  return advertised > 0 ? `connection: keep-alive\r\nkeep-alive: timeout=${advertised}\r\n` : 'connection: keep-alive\r\n';
}

/** Writes a head and (optionally) body data in one writev; returns what `write` returned. */
export function writeMessage(socket: Socket, head: string, body?: Buffer | string, done?: () => void): boolean {
  if (body === undefined || body.length === 0) return socket.write(head, 'latin1', done);
  socket.cork();
  socket.write(head, 'latin1');
  const ok = typeof body === 'string' ? socket.write(body, 'latin1', done) : socket.write(body, done);
  socket.uncork();
  return ok;
}

/** A response the proxy makes itself: the given fields plus Date, then the connection lines. */
export function proxyResponseHead(status: number, headers: readonly string[], connection: string): string {
  return responseHead(status, statusText(status), headers, `date: ${httpDate()}\r\n${connection}`);
}
