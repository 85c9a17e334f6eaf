// Builds the project's Dockerfile with podman on top of the locally made base image. The build
// needs the npm registry; where the registry is reached through a TLS-intercepting proxy, this
// machine's CA bundle goes in as a build secret (never into a layer), found where npm and Node
// are told about it.
import { existsSync } from 'node:fs';
import { REPO_ROOT } from '../lib/paths.ts';
import { run } from '../lib/exec.ts';
import { podman } from '../lib/podman.ts';

export const PROXY_IMAGE = 'localhost/reverse-proxy:e2e';

async function registryCaBundle(): Promise<string | undefined> {
  const fromNpm = (await run('npm', ['config', 'get', 'cafile'], { allowFailure: true })).stdout.trim();
  for (const candidate of [process.env.NODE_EXTRA_CA_CERTS, fromNpm]) {
    if (candidate && candidate !== 'null' && candidate !== 'undefined' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export async function buildProxyImage(baseImage: string, log: (line: string) => void): Promise<string> {
  const ca = await registryCaBundle();
  log(`image ${PROXY_IMAGE}: podman build FROM ${baseImage}${ca ? ' (registry CA bundle as a build secret)' : ''}`);
  await podman(
    ['build', '--build-arg', `NODE_IMAGE=${baseImage}`, ...(ca ? ['--secret', `id=npm-ca,src=${ca}`] : []), '--tag', PROXY_IMAGE, REPO_ROOT],
    { timeoutMs: 900_000 },
  );
  return PROXY_IMAGE;
}
