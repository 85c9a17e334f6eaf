// A local HTTP server standing in for the Kubernetes API server, and a kubeconfig file that
// points at it: set KUBECONFIG to `kubeconfig` and the reloader posts its Events here.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface Posted {
  method: string;
  url: string;
  authorization: string | undefined;
  body: Record<string, any>;
}

export type Responder = (req: IncomingMessage, res: ServerResponse, posted: Posted) => void;

export const created: Responder = (_req, res, posted) => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(posted.body));

/** A stand-in API server plus a kubeconfig file that points at it. */
export async function startApiServer(t: TestContext, respond: Responder = created) {
  const posted: Posted[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(text || '{}') };
      posted.push(entry);
      respond(req, res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = await mkdtemp(join(tmpdir(), 'reloader-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}", insecure-skip-tls-verify: true}}]
users: [{name: reloader, user: {token: test-token}}]
contexts: [{name: test, context: {cluster: test, user: reloader}}]
current-context: test
`,
  );
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  return { posted, kubeconfig };
}

