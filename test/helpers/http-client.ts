// One HTTP/1.1 request to a local port over node:http, with exactly the headers the test gives
// (no Host is added for it), collecting the whole reply. node:http rather than undici, so a test
// controls Host, hop-by-hop headers and the connection itself.
import { request, type Agent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  response: IncomingMessage;
}

export interface SendOptions {
  path?: string;
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** Body written chunk by chunk (chunked transfer encoding unless a content-length is set). */
  chunks?: (Buffer | string)[];
  /** A keep-alive agent to reuse connections; by default a new connection per request. */
  agent?: Agent | false;
}

export function send(port: number, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'GET', headers: options.headers, setHost: false, agent: options.agent ?? false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, response: res }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

/** GET `path` with this Host header. */
export const get = (port: number, host: string, path = '/') => send(port, { path, headers: { host } });
