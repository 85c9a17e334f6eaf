// The responses the proxy produces itself (never the upstream's): plain text, one line, status
// code first, so `curl` output and logs read the same. No internals, no stack traces.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { http } from '../node-http.ts';

/** nginx's status for "client closed the connection before the response was sent"; logged only. */
export const CLIENT_CLOSED_STATUS = 499;

export interface ProxyReply {
  status: number;
  /** Shown after the status code, e.g. `no site for host "x"`. */
  message: string;
  /** Extra headers such as Retry-After. */
  headers?: readonly string[];
  /** Close the client connection afterwards (an unread request body is still on the wire). */
  close?: boolean;
}

function body(reply: ProxyReply): Buffer {
  return Buffer.from(`${reply.status} ${reply.message}\n`);
}

function headerList(reply: ProxyReply, length: number): string[] {
  const headers = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(length), 'cache-control', 'no-store'];
  if (reply.headers) headers.push(...reply.headers);
  if (reply.close) headers.push('connection', 'close');
  return headers;
}

/** Sends a proxy-generated reply; returns the body size for the access log. */
export function sendReply(res: ServerResponse, reply: ProxyReply): number {
  const payload = body(reply);
  res.writeHead(reply.status, headerList(reply, payload.length));
  res.end(res.req.method === 'HEAD' ? undefined : payload);
  return payload.length;
}

/** The same reply written straight onto a socket that left HTTP handling (an upgrade). */
export function writeReplyToSocket(socket: Duplex, reply: ProxyReply): number {
  const payload = body(reply);
  const headers = headerList({ ...reply, close: true }, payload.length);
  let head = `HTTP/1.1 ${reply.status} ${http.STATUS_CODES[reply.status] ?? ''}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), payload]));
  return payload.length;
}
