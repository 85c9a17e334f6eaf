// The rendered chart checked against the Kubernetes schemas (kubernetes-models), and the pod
// spec and containers picked out of it, for the chart tests.
import assert from 'node:assert/strict';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer } from 'kubernetes-models/v1';
import type { Manifest } from './helm.ts';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

export function validateAll(manifests: Manifest[]): void {
  for (const m of manifests) {
    const Model = MODELS[`${m.apiVersion}/${m.kind}`];
    assert.ok(Model, `no schema check for ${m.apiVersion} ${m.kind}: add it to MODELS`);
    assert.doesNotThrow(() => new Model(m as never).validate(), `${m.kind} ${m.metadata.name} fails the Kubernetes schema`);
  }
}

export function podSpec(manifests: Manifest[]) {
  const deployment = manifests.find((m) => m.kind === 'Deployment');
  assert.ok(deployment, 'a Deployment is rendered');
  return new Deployment(deployment as never).spec!.template.spec!;
}

export function container(spec: ReturnType<typeof podSpec>, name: string): IContainer {
  const found = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === name);
  assert.ok(found, `container ${name} is in the pod`);
  return found;
}

export const mountPath = (c: IContainer, volume: string) => c.volumeMounts?.find((m) => m.name === volume)?.mountPath;

