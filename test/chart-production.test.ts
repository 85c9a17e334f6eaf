// The chart's production settings, each rendered and checked against the Kubernetes schemas:
// disruption budget, autoscaler, scheduling, rolling updates that keep capacity, probes, extra
// volumes/env/ports, and the values mistakes helm template refuses with a message to act on.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { container, podSpec, validateAll } from './helpers/chart-models.ts';
import { CHART_DIR, helm, helmTemplate, renderManifests, type Manifest } from './helpers/helm.ts';

const find = (manifests: Manifest[], kind: string) => manifests.find((m) => m.kind === kind) as (Manifest & { spec: Record<string, any> }) | undefined;
const SELECTOR = { 'app.kubernetes.io/name': 'reverse-proxy', 'app.kubernetes.io/instance': 'rp' };

/** Every production option at once, away from its default. */
const PRODUCTION = {
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12, targetCPUUtilizationPercentage: 70, targetMemoryUtilizationPercentage: 85, behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } },
  podDisruptionBudget: { minAvailable: '50%' },
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
    { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { tier: 'edge' } } },
  ],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: SELECTOR } } }] } },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'edge', effect: 'NoSchedule' }],
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  priorityClassName: 'edge-critical',
  podAnnotations: { 'example.com/team': 'edge' },
  podLabels: { tier: 'edge' },
  extraVolumes: [{ name: 'certs', secret: { secretName: 'edge-tls' } }, { name: 'scratch', emptyDir: {} }],
  proxy: {
    extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=256' }],
    extraVolumeMounts: [{ name: 'certs', mountPath: '/etc/tls', readOnly: true }],
    startupProbe: { periodSeconds: 1, failureThreshold: 90 },
    resources: { requests: { cpu: '200m', memory: '128Mi' } },
  },
  reloader: { extraEnv: [{ name: 'REVERSE_PROXY_LOG_LEVEL', value: 'debug' }], extraVolumeMounts: [{ name: 'certs', mountPath: '/etc/tls', readOnly: true }] },
  app: {
    enabled: true,
    image: { repository: 'registry.example/shop', tag: '1.4.2' },
    port: 3000,
    ports: [{ name: 'app', containerPort: 3000 }, { name: 'admin', containerPort: 3001 }],
    readinessProbe: { httpGet: { path: '/ready', port: 3000 }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: '/live', port: 3000 } },
    startupProbe: { httpGet: { path: '/live', port: 3000 }, failureThreshold: 60 },
    resources: { limits: { memory: '512Mi' } },
    extraVolumeMounts: [{ name: 'scratch', mountPath: '/tmp' }],
  },
  service: { extraPorts: [{ name: 'app-admin', port: 3001, targetPort: 'admin', protocol: 'TCP' }] },
};

describe('chart: production settings', async () => {
  const defaults = await renderManifests();
  const production = await renderManifests(PRODUCTION);

  test('lint --strict passes with every production option set', async () => {
    await helm(['lint', '--strict', CHART_DIR, ...Object.entries(PRODUCTION).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`])]);
  });

  test('every rendered manifest passes the Kubernetes schema', () => {
    validateAll(defaults);
    validateAll(production);
  });

  test('defaults: rolling updates never lower capacity; a PodDisruptionBudget since two pods run', () => {
    const deployment = find(defaults, 'Deployment')!;
    assert.deepEqual(deployment.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    assert.equal(deployment.spec.replicas, 2);
    const pdb = find(defaults, 'PodDisruptionBudget')!;
    assert.deepEqual(pdb.spec, { maxUnavailable: 1, selector: { matchLabels: SELECTOR } });
    assert.equal(find(defaults, 'HorizontalPodAutoscaler'), undefined, 'no autoscaler unless asked');
  });

  test('the PodDisruptionBudget follows the pod count unless set', async () => {
    assert.equal(find(await renderManifests({ replicaCount: 1 }), 'PodDisruptionBudget'), undefined, 'one pod: a budget would block every drain');
    assert.ok(find(await renderManifests({ replicaCount: 1, podDisruptionBudget: { enabled: true } }), 'PodDisruptionBudget'), 'forced on');
    assert.equal(find(await renderManifests({ podDisruptionBudget: { enabled: false } }), 'PodDisruptionBudget'), undefined, 'forced off');
    assert.deepEqual(find(production, 'PodDisruptionBudget')!.spec.minAvailable, '50%');
  });

  test('autoscaling: an HPA on the Deployment, which then leaves replicas to it', () => {
    const hpa = find(production, 'HorizontalPodAutoscaler')!;
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'rp-reverse-proxy' });
    assert.equal(hpa.spec.minReplicas, 3);
    assert.equal(hpa.spec.maxReplicas, 12);
    assert.deepEqual(
      hpa.spec.metrics.map((m: { resource: { name: string; target: { averageUtilization: number } } }) => [m.resource.name, m.resource.target.averageUtilization]),
      [['cpu', 70], ['memory', 85]],
    );
    assert.deepEqual(hpa.spec.behavior, { scaleDown: { stabilizationWindowSeconds: 300 } });
    assert.equal(find(production, 'Deployment')!.spec.replicas, undefined);
  });

  test('scheduling: spread (with the selector filled in), affinity, tolerations, node selector, priority, pod metadata', () => {
    const deployment = find(production, 'Deployment')!;
    const spec = podSpec(production);
    assert.deepEqual(spec.topologySpreadConstraints, [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: SELECTOR } },
      PRODUCTION.topologySpreadConstraints[1],
    ]);
    assert.deepEqual(spec.affinity, PRODUCTION.affinity);
    assert.deepEqual(spec.tolerations, PRODUCTION.tolerations);
    assert.deepEqual(spec.nodeSelector, PRODUCTION.nodeSelector);
    assert.equal(spec.priorityClassName, 'edge-critical');
    assert.deepEqual(deployment.spec.template.metadata.annotations, PRODUCTION.podAnnotations);
    assert.deepEqual(deployment.spec.template.metadata.labels, { ...SELECTOR, tier: 'edge' });
  });

  test('probes: the proxy has a startup probe ahead of liveness; the app gets the probes it is given', () => {
    const spec = podSpec(production);
    const proxy = container(spec, 'proxy');
    assert.deepEqual(proxy.startupProbe, { exec: { command: ['reverse-proxy', 'ctl', 'show', 'proc'] }, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 90 });
    assert.deepEqual(container(podSpec(defaults), 'proxy').startupProbe?.failureThreshold, 30);
    assert.equal(container(podSpec(defaults), 'proxy').startupProbe?.periodSeconds, 2);
    const app = container(spec, 'app');
    assert.deepEqual(app.readinessProbe, PRODUCTION.app.readinessProbe);
    assert.deepEqual(app.livenessProbe, PRODUCTION.app.livenessProbe);
    assert.deepEqual(app.startupProbe, PRODUCTION.app.startupProbe);
    assert.deepEqual(app.ports, PRODUCTION.app.ports);
    assert.deepEqual(app.resources, PRODUCTION.app.resources);
  });

  test('the app declares its port when no ports are given', async () => {
    const app = container(podSpec(await renderManifests({ app: { enabled: true, image: { repository: 'shop' }, port: 3000 } })), 'app');
    assert.deepEqual(app.ports, [{ name: 'app', containerPort: 3000, protocol: 'TCP' }]);
    assert.equal(app.readinessProbe, undefined);
  });

  test('extra volumes, mounts and env reach the proxy, the reloader and the app; extra Service ports', () => {
    const spec = podSpec(production);
    assert.deepEqual(spec.volumes!.slice(-2), PRODUCTION.extraVolumes);
    const proxy = container(spec, 'proxy');
    const reloader = container(spec, 'reloader');
    assert.deepEqual(proxy.volumeMounts!.slice(-1), PRODUCTION.proxy.extraVolumeMounts);
    assert.deepEqual(reloader.volumeMounts!.slice(-1), PRODUCTION.reloader.extraVolumeMounts);
    assert.ok(proxy.volumeMounts!.some((m) => m.name === 'reverse-proxy-socket'), 'the chart\'s own mounts stay');
    assert.deepEqual(proxy.env, PRODUCTION.proxy.extraEnv);
    assert.deepEqual(reloader.env!.slice(-1), PRODUCTION.reloader.extraEnv);
    assert.deepEqual(container(spec, 'app').volumeMounts, PRODUCTION.app.extraVolumeMounts);
    const service = find(production, 'Service')!;
    assert.deepEqual(service.spec.ports.at(-1), PRODUCTION.service.extraPorts[0]);
  });
});

describe('chart: values mistakes refused at template time', () => {
  const refused = async (values: Record<string, unknown>, message: RegExp) =>
    assert.rejects(helmTemplate(values), (err: { stderr?: string }) => {
      assert.match(err.stderr ?? '', message);
      return true;
    });

  test('config.raw that moves admin_socket_path away from where the reloader and the probes look', async () => {
    const raw = 'admin_socket_path = "/tmp/admin.sock"\n[[sites]]\nhost = "a.example"\nupstream = "http://127.0.0.1:1"\n';
    await refused({ config: { raw } }, /config\.raw sets admin_socket_path = "\/tmp\/admin\.sock", but the reloader and the readiness and liveness probes use \/run\/reverse-proxy\/admin\.sock/);
    await refused({ config: { raw: raw.replace('/tmp/admin.sock', '') } }, /admin_socket_path = ""/);
    // The path they use, or none (the default is that path), renders.
    await helmTemplate({ config: { raw: raw.replace('/tmp/admin.sock', '/run/reverse-proxy/admin.sock') } });
    await helmTemplate({ config: { raw: raw.split('\n').slice(1).join('\n') } });
  });

  test('a host two sites serve (case and trailing dot do not make it another), and two default sites', async () => {
    await refused(
      { config: { sites: [{ host: 'shop.example.com', upstream: 'http://127.0.0.1:1' }, { host: ['api.example.com', 'Shop.Example.com.'], upstream: 'http://127.0.0.1:2' }] } },
      /config\.sites\[1\]\.host: host "shop\.example\.com" is already served by config\.sites\[0\]/,
    );
    await refused(
      { config: { sites: [{ default: true, upstream: 'http://127.0.0.1:1' }, { default: true, upstream: 'http://127.0.0.1:2' }] } },
      /config\.sites\[1\]\.default: only one site can be the default; config\.sites\[0\] already is/,
    );
  });

  test('an autoscaler with min above max or nothing to scale on; unknown keys in the new tables', async () => {
    await refused({ autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } }, /autoscaling\.minReplicas \(5\) is more than autoscaling\.maxReplicas \(2\)/);
    await refused({ autoscaling: { enabled: true, targetCPUUtilizationPercentage: null } }, /needs autoscaling\.targetCPUUtilizationPercentage or autoscaling\.targetMemoryUtilizationPercentage/);
    await refused({ autoscaling: { enabled: true, maxReplica: 3 } }, /maxReplica/);
    await refused({ podDisruptionBudget: { maxUnavailable: 'half' } }, /podDisruptionBudget/);
    await refused({ updateStrategy: { type: 'Rolling' } }, /updateStrategy/);
    await refused({ proxy: { startupProbe: { period: 1 } } }, /period/);
  });
});

/** Value paths the README's table names: `a.b.c`, and `a.b.c` / `.d` for a sibling. */
function documentedPaths(readme: string): Set<string> {
  const paths = new Set<string>();
  for (const row of readme.split('\n').filter((l) => l.startsWith('| `'))) {
    const spans = [...row.split(' | ')[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const [first, ...siblings] = spans;
    if (first === undefined) continue;
    paths.add(first);
    const parent = first.slice(0, first.lastIndexOf('.'));
    for (const sibling of siblings) if (sibling.startsWith('.')) paths.add(parent + sibling);
  }
  return paths;
}

test('the chart README documents every value of values.yaml', async () => {
  const chart = (file: string) => readFile(join(CHART_DIR, file), 'utf8');
  const values = parse(await chart('values.yaml')) as Record<string, unknown>;
  const documented = documentedPaths(await chart('README.md'));
  const missing: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (documented.has(path)) continue;
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) walk(value as Record<string, unknown>, path);
      else missing.push(path);
    }
  };
  walk(values, '');
  assert.deepEqual(missing, [], 'values without a row in charts/reverse-proxy/README.md');
});
