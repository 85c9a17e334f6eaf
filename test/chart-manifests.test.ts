// The rendered chart is valid Kubernetes, and the pod is wired the way the proxy and reloader
// need: one socket directory shared at the same path, the ConfigMap as a directory, the probes,
// a shared fsGroup and RBAC only when asked for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { container, mountPath, podSpec, validateAll } from './helpers/chart-models.ts';
import { helm, CHART_DIR, renderManifests } from './helpers/helm.ts';

/** Values that move away from every default that changes the shape of the output. */
const NON_DEFAULT = {
  replicaCount: 3,
  reloader: { nativeSidecar: false },
  rbac: { create: false },
  serviceAccount: { create: false },
  app: { enabled: true, image: { repository: 'registry.example/shop', tag: '1.4.2' }, port: 3000 },
  config: { workers: 'auto', shutdownTimeoutSecs: 90 },
  proxy: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'edge', effect: 'NoSchedule' }],
  service: { type: 'LoadBalancer', port: 8443, annotations: { 'example.com/lb': 'internal' } },
};

describe('chart: lint', () => {
  test('default values lint clean', async () => {
    await helm(['lint', '--strict', CHART_DIR]);
  });
  test('non-default values lint clean', async () => {
    await helm(['lint', '--strict', CHART_DIR, ...Object.entries(NON_DEFAULT).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`])]);
  });
});

describe('chart: default values', async () => {
  const manifests = await renderManifests();
  const spec = podSpec(manifests);

  test('every manifest passes the Kubernetes schema', () => validateAll(manifests));

  test('proxy and reloader share the socket emptyDir at /run/reverse-proxy', () => {
    const volume = spec.volumes?.find((v) => v.name === 'reverse-proxy-socket');
    assert.deepEqual(volume?.emptyDir, {});
    assert.equal(mountPath(container(spec, 'proxy'), 'reverse-proxy-socket'), '/run/reverse-proxy');
    assert.equal(mountPath(container(spec, 'reloader'), 'reverse-proxy-socket'), '/run/reverse-proxy');
  });

  test('the ConfigMap is mounted as a directory, never with subPath (kubelet would never update it)', () => {
    for (const name of ['proxy', 'reloader']) {
      const mount = container(spec, name).volumeMounts?.find((m) => m.name === 'reverse-proxy-config');
      assert.equal(mount?.mountPath, '/etc/reverse-proxy');
      assert.equal(mount?.subPath, undefined);
      assert.equal(mount?.readOnly, true);
    }
  });

  test('readiness runs `reverse-proxy ctl status`; liveness uses a command the draining master still answers', () => {
    const proxy = container(spec, 'proxy');
    assert.deepEqual(proxy.readinessProbe?.exec?.command, ['reverse-proxy', 'ctl', 'status']);
    assert.deepEqual(proxy.livenessProbe?.exec?.command, ['reverse-proxy', 'ctl', 'show', 'proc']);
    assert.ok((proxy.readinessProbe?.timeoutSeconds ?? 1) > 1, 'a Node start-up needs more than the 1 s default');
  });

  test('the grace period outlasts the preStop pause plus the drain', () => {
    assert.equal(spec.terminationGracePeriodSeconds, 5 + 30 + 10);
    assert.deepEqual(container(spec, 'proxy').lifecycle?.preStop?.exec?.command, ['sleep', '5']);
  });

  test('non-root with a fixed UID and a shared fsGroup; locked-down containers', () => {
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    assert.equal(spec.securityContext?.runAsUser, 10001);
    assert.equal(spec.securityContext?.fsGroup, 10001);
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    for (const name of ['proxy', 'reloader']) {
      const sc = container(spec, name).securityContext;
      assert.equal(sc?.readOnlyRootFilesystem, true);
      assert.equal(sc?.allowPrivilegeEscalation, false);
      assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
    }
  });

  test('the reloader is a native sidecar by default, with the downward-API pod identity', () => {
    const reloader = spec.initContainers?.find((c) => c.name === 'reloader');
    assert.equal(reloader?.restartPolicy, 'Always');
    assert.ok(!spec.containers.some((c) => c.name === 'reloader'));
    const fields = Object.fromEntries((reloader?.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.deepEqual(fields, { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', POD_UID: 'metadata.uid' });
    assert.ok(reloader?.args?.includes('--socket=/run/reverse-proxy/admin.sock'));
    assert.ok(reloader?.args?.includes('--watch=/etc/reverse-proxy'));
  });

  test('RBAC grants the pod\'s ServiceAccount create/patch on events, and nothing more', () => {
    const role = manifests.find((m) => m.kind === 'Role') as unknown as Role;
    const binding = manifests.find((m) => m.kind === 'RoleBinding') as unknown as RoleBinding;
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] }]);
    assert.equal(binding.subjects?.[0]?.name, spec.serviceAccountName);
    assert.equal(binding.subjects?.[0]?.namespace, 'web');
    assert.equal(spec.automountServiceAccountToken, true);
  });

  test('the Service targets the proxy port', () => {
    const service = manifests.find((m) => m.kind === 'Service') as unknown as Service;
    assert.equal(service.spec?.ports?.[0]?.targetPort, 'http');
    assert.equal(container(spec, 'proxy').ports?.find((p) => p.name === 'http')?.containerPort, 8080);
  });
});

describe('chart: non-default values', async () => {
  const manifests = await renderManifests(NON_DEFAULT);
  const spec = podSpec(manifests);

  test('every manifest passes the Kubernetes schema', () => validateAll(manifests));

  test('no RBAC objects and no token when rbac.create is false', () => {
    assert.deepEqual(manifests.filter((m) => ['Role', 'RoleBinding', 'ServiceAccount'].includes(m.kind)), []);
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.serviceAccountName, 'default');
  });

  test('the reloader becomes an ordinary container', () => {
    assert.equal(spec.initContainers, undefined);
    assert.deepEqual(spec.containers.map((c) => c.name), ['proxy', 'reloader', 'app']);
    assert.equal(container(spec, 'reloader').restartPolicy, undefined);
  });

  test('the app container runs beside the proxy, which fronts it on 127.0.0.1', () => {
    assert.equal(container(spec, 'app').image, 'registry.example/shop:1.4.2');
    const configMap = manifests.find((m) => m.kind === 'ConfigMap') as unknown as ConfigMap;
    assert.match(configMap.data?.['config.toml'] ?? '', /upstream = "http:\/\/127\.0\.0\.1:3000"/);
  });

  test('scheduling, replicas, resources and the derived grace period follow the values', () => {
    const deployment = new Deployment(manifests.find((m) => m.kind === 'Deployment') as never);
    assert.equal(deployment.spec?.replicas, 3);
    assert.deepEqual(spec.nodeSelector, NON_DEFAULT.nodeSelector);
    assert.deepEqual(spec.tolerations, NON_DEFAULT.tolerations);
    assert.deepEqual(container(spec, 'proxy').resources, NON_DEFAULT.proxy.resources);
    assert.equal(spec.terminationGracePeriodSeconds, 5 + 90 + 10);
  });
});
