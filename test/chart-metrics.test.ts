// The chart's metrics wiring: with `metrics.enabled` the proxy's config gets a [metrics] table
// the real config parser accepts, the pod and the Service get ports for the proxy's and the
// reloader's /metrics, and the prometheus-operator ServiceMonitor / PodMonitor point at ports
// that exist. Strict values: unknown keys and monitors without metrics are refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHART_DIR, type Manifest, chartParts, helm, helmTemplate, renderManifests } from './helpers/helm.ts';

const ON = { metrics: { enabled: true, port: 9300 } };
const MONITORS = { metrics: { enabled: true, port: 9300, serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } }, podMonitor: { enabled: true } } };

function find(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.find((m) => m.kind === kind);
  assert.ok(found, `a ${kind} is rendered`);
  return found;
}

function parts(manifests: Manifest[]) {
  const { deployment, container, service, config } = chartParts(manifests);
  const portsOf = (name: string) => container(name)?.ports?.map((p) => [p.name, p.containerPort]) ?? [];
  return { service, portsOf, config, podLabels: deployment.spec!.template.metadata!.labels! };
}

describe('chart: metrics', () => {
  test('off by default: no [metrics] table, no metrics ports, no monitors', async () => {
    const manifests = await renderManifests();
    const { service, portsOf, config } = parts(manifests);
    assert.equal(config.metrics, undefined);
    assert.deepEqual(portsOf('proxy').map(([name]) => name), ['http']);
    assert.deepEqual(service.spec!.ports!.map((p) => p.name), ['http']);
    assert.deepEqual(manifests.filter((m) => m.apiVersion === 'monitoring.coreos.com/v1'), []);
  });

  test('enabled: the proxy config listens for metrics on the pod port the Service exposes, with the reloader beside it', async () => {
    const { service, portsOf, config } = parts(await renderManifests(ON));
    assert.deepEqual(config.metrics, { address: '0.0.0.0', port: 9300, path: '/metrics' });
    assert.deepEqual(portsOf('proxy'), [['http', 8080], ['metrics', 9300]]);
    assert.deepEqual(portsOf('reloader'), [['reloader-health', 9901]]);
    assert.deepEqual(
      service.spec!.ports!.map((p) => [p.name, p.port, p.targetPort]),
      [['http', 80, 'http'], ['metrics', 9300, 'metrics'], ['reloader-metrics', 9901, 'reloader-health']],
    );
  });

  test('ServiceMonitor and PodMonitor select this release and scrape ports that exist', async () => {
    const manifests = await renderManifests(MONITORS);
    const { service, portsOf, podLabels } = parts(manifests);
    const serviceMonitor = find(manifests, 'ServiceMonitor') as Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string; interval: string; scrapeTimeout: string }[] } };
    assert.equal(serviceMonitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal((serviceMonitor.metadata.labels as Record<string, string>).release, 'prom');
    for (const [key, value] of Object.entries(serviceMonitor.spec.selector.matchLabels)) assert.equal(service.metadata!.labels![key], value, `the Service carries ${key}`);
    const servicePorts = new Set(service.spec!.ports!.map((p) => p.name));
    assert.deepEqual(serviceMonitor.spec.endpoints.map((e) => [e.port, e.path, e.interval, e.scrapeTimeout]), [['metrics', '/metrics', '15s', '10s'], ['reloader-metrics', '/metrics', '15s', '10s']]);
    for (const e of serviceMonitor.spec.endpoints) assert.ok(servicePorts.has(e.port), `Service port ${e.port}`);

    const podMonitor = find(manifests, 'PodMonitor') as Manifest & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string }[] } };
    for (const [key, value] of Object.entries(podMonitor.spec.selector.matchLabels)) assert.equal(podLabels[key], value, `the pods carry ${key}`);
    const podPorts = new Set([...portsOf('proxy'), ...portsOf('reloader')].map(([name]) => name));
    assert.deepEqual(podMonitor.spec.podMetricsEndpoints.map((e) => e.port), ['metrics', 'reloader-health']);
    for (const e of podMonitor.spec.podMetricsEndpoints) assert.ok(podPorts.has(e.port), `pod port ${e.port}`);
    await helm(['lint', '--strict', CHART_DIR, '--set-json', `metrics=${JSON.stringify(MONITORS.metrics)}`]);
  });

  test('refused: a monitor without metrics, and keys the schema does not know', async () => {
    const refused = async (values: Record<string, unknown>, message: RegExp) =>
      assert.rejects(helmTemplate(values), (err: { stderr?: string }) => {
        assert.match(err.stderr ?? '', message);
        return true;
      });
    await refused({ metrics: { serviceMonitor: { enabled: true } } }, /need metrics\.enabled=true/);
    await refused({ metrics: { enabled: true, scrapeInterval: '5s' } }, /scrapeInterval/);
    await refused({ metrics: { enabled: true, serviceMonitor: { enabled: true, interval: 'often' } } }, /interval/);
  });
});
