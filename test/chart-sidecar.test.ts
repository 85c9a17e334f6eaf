// Another chart can add the proxy and its reloader to its own pods with the
// `reverse-proxy.sidecar.*` templates, using this chart as a dependency for the ConfigMap and RBAC.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Pod } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, helm } from './helpers/helm.ts';

const PARENT_POD = `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-shop
spec:
  {{- $rp := dict "Values" (index .Values "reverse-proxy") "Release" .Release }}
  securityContext:
    fsGroup: 10001
  initContainers:
    {{- include "reverse-proxy.sidecar.initContainers" $rp | nindent 4 }}
  containers:
    - name: shop
      image: registry.example/shop:1.0
    {{- include "reverse-proxy.sidecar.containers" $rp | nindent 4 }}
  volumes:
    {{- include "reverse-proxy.sidecar.volumes" $rp | nindent 4 }}
`;

const PARENT_VALUES = `reverse-proxy:
  deployment:
    enabled: false
  image:
    repository: registry.example/reverse-proxy
    tag: "0.1.0"
  config:
    sites:
      - default: true
        upstream: http://127.0.0.1:3000
`;

const dir = await mkdtemp(join(tmpdir(), 'chart-parent-'));
after(() => rm(dir, { recursive: true, force: true }));

test('a parent chart includes the sidecar templates and gets a complete, valid pod', async () => {
  await mkdir(join(dir, 'templates'), { recursive: true });
  await cp(CHART_DIR, join(dir, 'charts', 'reverse-proxy'), { recursive: true });
  await writeFile(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: shop\nversion: 1.0.0\ndependencies:\n  - name: reverse-proxy\n    version: 0.1.0\n');
  await writeFile(join(dir, 'values.yaml'), PARENT_VALUES);
  await writeFile(join(dir, 'templates', 'pod.yaml'), PARENT_POD);

  const { stdout } = await helm(['template', 'shop', dir]);
  const docs = parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> });
  const kinds = docs.map((d) => d.kind).sort();
  assert.deepEqual(kinds, ['ConfigMap', 'Pod', 'Role', 'RoleBinding', 'ServiceAccount'], 'no Deployment or Service of its own');

  const pod = new Pod(docs.find((d) => d.kind === 'Pod') as never);
  pod.validate();
  assert.deepEqual(pod.spec?.containers.map((c) => c.name), ['shop', 'proxy']);
  assert.equal(pod.spec?.initContainers?.[0]?.name, 'reloader');
  assert.equal(pod.spec?.containers[1]?.image, 'registry.example/reverse-proxy:0.1.0');

  const configMap = docs.find((d) => d.kind === 'ConfigMap');
  const volume = pod.spec?.volumes?.find((v) => v.name === 'reverse-proxy-config');
  assert.equal(volume?.configMap?.name, configMap?.metadata.name, 'the pod mounts the ConfigMap the dependency renders');
  assert.match(configMap?.data?.['config.toml'] ?? '', /upstream = "http:\/\/127\.0\.0\.1:3000"/);
});
