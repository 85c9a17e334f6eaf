// WebSocket (HTTP/1.1 Upgrade) through the proxy with a real `ws` server and client.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';

function openSocket(port: number, host: string): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${port}/chat?room=1`, { headers: { host } });
}

describe('websocket upgrade', () => {
  let upstream: Server;
  let wss: WebSocketServer;
  let refusing: Server;
  let proxy: ProxyProcess;
  const handshakes: IncomingMessage[] = [];

  before(async () => {
    upstream = createServer((_req, res) => res.end('plain'));
    wss = new WebSocketServer({ server: upstream });
    wss.on('connection', (socket, req) => {
      handshakes.push(req);
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    // Declines every upgrade with an ordinary 403.
    refusing = createServer((_req, res) => res.end());
    refusing.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 7\r\n\r\nnope!\r\n'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    proxy = await startProxy({
      config: `
[[sites]]
host = "ws.test"
upstream = "http://127.0.0.1:${(upstream.address() as AddressInfo).port}"

[[sites]]
host = "refusing.test"
upstream = "http://127.0.0.1:${(refusing.address() as AddressInfo).port}"

[[sites]]
host = "down.test"
upstream = "http://127.0.0.1:${closedPort}"
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    for (const client of wss?.clients ?? []) client.terminate();
    wss?.close();
    upstream?.closeAllConnections();
    refusing?.closeAllConnections();
    await Promise.all([new Promise((r) => upstream?.close(r)), new Promise((r) => refusing?.close(r))]);
  });

  it('tunnels text and large binary messages both ways and forwards the handshake headers', async () => {
    const ws = openSocket(proxy.port, 'ws.test');
    await once(ws, 'open');
    ws.send('hello');
    const [text] = await once(ws, 'message');
    assert.equal(String(text), 'hello');
    const big = Buffer.alloc(4 * 1024 * 1024, 7);
    ws.send(big);
    const [echoed, isBinary] = await once(ws, 'message');
    assert.equal(isBinary, true);
    assert.ok(big.equals(echoed as Buffer));
    const handshake = handshakes.at(-1)!;
    assert.equal(handshake.url, '/chat?room=1');
    assert.equal(handshake.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(handshake.headers['x-forwarded-host'], 'ws.test');
    assert.equal(handshake.headers.host, 'ws.test');
    ws.close();
    await once(ws, 'close');
    const line = await proxy.waitForLog((l) => l.event === 'access' && l.host === 'ws.test');
    assert.equal(line.status, 101);
  });

  it('closes the client side when the upstream closes the tunnel', async () => {
    const ws = openSocket(proxy.port, 'ws.test');
    await once(ws, 'open');
    for (const client of wss.clients) client.terminate();
    const [code] = await once(ws, 'close');
    assert.equal(code, 1006);
  });

  it('relays an upstream that declines the upgrade with its own status', async () => {
    const ws = openSocket(proxy.port, 'refusing.test');
    const [, response] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    assert.equal(response.statusCode, 403);
    response.resume();
    ws.on('error', () => undefined);
    ws.terminate();
  });

  it('answers 502 when the upstream of a WebSocket is down, and 404 for an unknown host', async () => {
    for (const [host, status] of [['down.test', 502], ['nowhere.test', 404]] as const) {
      const ws = openSocket(proxy.port, host);
      const [, response] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
      assert.equal(response.statusCode, status, host);
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      await once(response, 'end');
      assert.match(body, new RegExp(`^${status} `));
      ws.on('error', () => undefined);
      ws.terminate();
    }
  });
});
