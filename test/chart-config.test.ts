// The config.toml the chart renders from values is one the proxy accepts (checked by the real
// `reverse-proxy check`), and bad values are refused at `helm template` time by the schema,
// naming the key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, helmTemplate, renderManifests } from './helpers/helm.ts';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'src', 'cli.ts');

const SITES = [
  { host: ['shop.example.com', '*.shop.example.com'], upstream: 'http://127.0.0.1:3000', rate_limit: { rps: 50, burst: 100 } },
  { host: 'api.example.com', upstream: ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'], request_timeout_secs: 2.5, body_limit_bytes: 1048576, via: true },
  { default: true, upstream: 'https://fallback.example.com', preserve_host: false, connect_timeout_secs: 1 },
];

async function renderedConfig(values: Record<string, unknown>): Promise<string> {
  const configMap = (await renderManifests(values)).find((m) => m.kind === 'ConfigMap') as { data: Record<string, string> } | undefined;
  assert.ok(configMap, 'a ConfigMap is rendered');
  const toml = configMap.data['config.toml'];
  assert.ok(toml !== undefined, 'the ConfigMap holds config.toml');
  return toml;
}

const dir = await mkdtemp(join(tmpdir(), 'chart-config-'));
after(() => rm(dir, { recursive: true, force: true }));

/** Runs `reverse-proxy check` on `toml`; resolves with its exit code and output. */
async function check(name: string, toml: string): Promise<{ code: number; output: string }> {
  const file = join(dir, name);
  await writeFile(file, toml);
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'check', '--config', file], { timeout: 30_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('chart: config.toml rendered from values', () => {
  test('sites listed in values render to TOML that `reverse-proxy check` accepts', async () => {
    const toml = await renderedConfig({ config: { sites: SITES, workers: 'auto', port: 9000, logging: { level: 'debug', accessLog: false } } });
    const result = await check('sites.toml', toml);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /ok/);
    assert.match(toml, /port = 9000\n/, 'whole numbers stay integers');
    assert.match(toml, /request_timeout_secs = 2\.5\n/);
    assert.match(toml, /workers = "auto"\n/);
    assert.match(toml, /admin_socket_path = "\/run\/reverse-proxy\/admin\.sock"/, 'the socket is where the reloader looks');
  });

  test('the defaults render a config `check` accepts', async () => {
    const result = await check('defaults.toml', await renderedConfig({}));
    assert.equal(result.code, 0, result.output);
  });

  test('config.raw is passed through verbatim', async () => {
    const raw = '# hand-written\n[[sites]]\nhost = "raw.example.com"\nupstream = "http://127.0.0.1:1"\n';
    assert.equal((await renderedConfig({ config: { raw } })).trimEnd(), raw.trimEnd());
  });
});

describe('chart: bad values fail at helm template time', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an upstream that is not http(s)', { config: { sites: [{ host: 'a.example', upstream: 'ftp://a' }] } }, /config\/sites\/0\/upstream/],
    ['a site with neither host nor default', { config: { sites: [{ upstream: 'http://127.0.0.1:1' }] } }, /missing property 'host'/],
    ['a misspelled site key', { config: { sites: [{ host: 'a.example', upstream: 'http://a:1', rate_limt: {} }] } }, /rate_limt/],
    ['zero workers', { config: { workers: 0 } }, /config\/workers/],
    ['a misspelled top-level value', { replicas: 2 }, /replicas/],
    ['the app enabled without an image', { app: { enabled: true } }, /app\/image\/repository/],
    ['an unknown service type', { service: { type: 'Ingress' } }, /service\/type/],
  ];
  test('refuses a native sidecar on a cluster older than 1.29, and accepts the ordinary container there', async () => {
    await assert.rejects(helmTemplate({}, ['--kube-version', '1.28.3']), (err: { stderr?: string }) => {
      assert.match(err.stderr ?? '', /needs Kubernetes 1\.29 or later .*set reloader\.nativeSidecar=false/);
      return true;
    });
    await helmTemplate({ reloader: { nativeSidecar: false } }, ['--kube-version', '1.28.3']);
  });
  for (const [what, values, message] of cases) {
    test(`refuses ${what}`, async () => {
      await assert.rejects(helmTemplate(values), (err: { stderr?: string }) => {
        assert.match(err.stderr ?? '', message);
        return true;
      });
    });
  }
});
