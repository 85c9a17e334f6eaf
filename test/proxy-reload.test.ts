// Generation swaps under traffic: a request in flight finishes on the generation it started
// with, new requests see the new one, and keep-alive connections to an upstream that both
// generations use survive the reload.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { get } from './helpers/http-client.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';

/** Answers "<name> <upstream-side port of the proxy's connection>", slowly for /slow. */
async function startNamed(name: string): Promise<{ server: Server; url: string; slowStarted: Promise<void> }> {
  let markSlow: () => void = () => undefined;
  const slowStarted = new Promise<void>((resolve) => (markSlow = resolve));
  const server = createServer((req, res) => {
    const answer = `${name} ${req.socket.remotePort}`;
    if (req.url === '/slow') {
      markSlow();
      setTimeout(() => res.end(answer), 1_000);
    } else {
      res.end(answer);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, slowStarted };
}

describe('generation swap', () => {
  let oldUpstream: Awaited<ReturnType<typeof startNamed>>;
  let newUpstream: Awaited<ReturnType<typeof startNamed>>;
  let shared: Awaited<ReturnType<typeof startNamed>>;
  let proxy: ProxyProcess;

  const config = (appUpstream: string) => `
[[sites]]
host = "app.test"
upstream = "${appUpstream}"

[[sites]]
host = "shared.test"
upstream = "${shared.url}"
`;

  before(async () => {
    [oldUpstream, newUpstream, shared] = await Promise.all([startNamed('old'), startNamed('new'), startNamed('shared')]);
    proxy = await startProxy({ config: config(oldUpstream.url) });
  });

  after(async () => {
    await proxy?.stop();
    for (const u of [oldUpstream, newUpstream, shared]) {
      u?.server.closeAllConnections();
      await new Promise((resolve) => u?.server.close(resolve));
    }
  });

  it('finishes a request in flight on the old upstream while new requests go to the new one, and keeps pooled connections', async () => {
    const sharedBefore = await get(proxy.port, 'shared.test');
    const inFlight = get(proxy.port, 'app.test', '/slow');
    await oldUpstream.slowStarted;

    await proxy.writeConfig(config(newUpstream.url));
    proxy.signal('SIGHUP');
    await proxy.waitForLog((l) => l.event === 'reload' && l.result === 'ok');

    const fresh = await get(proxy.port, 'app.test');
    assert.equal(fresh.status, 200);
    assert.match(fresh.body, /^new /);

    const finished = await inFlight;
    assert.equal(finished.status, 200);
    assert.match(finished.body, /^old /, 'the request that started before the reload completes on its generation');

    // The old upstream is in no generation any more: its pool closes once its request is done.
    const deadline = Date.now() + 5_000;
    let open = -1;
    while (Date.now() < deadline) {
      open = await new Promise<number>((resolve, reject) => oldUpstream.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
      if (open === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(open, 0, 'pool of the removed upstream closed after its in-flight request');

    // Same upstream-side port: the keep-alive connection from before the reload was reused.
    const sharedAfter = await get(proxy.port, 'shared.test');
    assert.equal(sharedAfter.body, sharedBefore.body);
  });
});
