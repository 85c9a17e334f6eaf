// The chart's own Deployment, rendered by `helm template`, adapted only where podman's
// `kube play` differs from a kubelet:
//   - the ConfigMap volume becomes a hostPath directory this e2e lays out and swaps kubelet-style
//     (podman fills a ConfigMap volume once and never swaps it);
//   - the proxy port is published on 127.0.0.1 so traffic comes from the host's loopback;
//   - POD_NAMESPACE gets a literal value (podman does not support that downward-API field);
//   - the reloader runs as an ordinary container (podman has no native sidecars);
//   - restartPolicy Never: the e2e stops containers like kubelet does (a single SIGTERM with
//     `podman kill`), and podman must not restart them as it would under Always.
import { parseAllDocuments, stringify } from 'yaml';
import { helmTemplate } from '../../test/helpers/helm.ts';

export const RELEASE = 'rp-e2e';
/** The pod `kube play` makes for the Deployment, and its containers' names. */
export const POD = `${RELEASE}-pod-0`;
export const container = (name: 'proxy' | 'reloader' | 'app') => `${POD}-${name}`;

interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number; hostPort?: number; hostIP?: string }[];
}
interface Deployment {
  kind: 'Deployment';
  spec: { template: { spec: { restartPolicy?: string; containers: Container[]; volumes: { name: string; configMap?: unknown; hostPath?: unknown }[] } } };
}

export interface PodOptions {
  image: string;
  /** JavaScript the app container runs with `node -e`. */
  appScript: string;
  /** UPSTREAMS for the app container, e.g. "blue=8081,green=8082". */
  upstreams: string;
  sites: unknown[];
  shutdownTimeoutSecs: number;
}

function values(options: PodOptions): Record<string, unknown> {
  const [repository, tag] = options.image.split(/:(?=[^:/]+$)/);
  const image = { repository, tag, pullPolicy: 'Never' };
  return {
    fullnameOverride: RELEASE,
    replicaCount: 1,
    image,
    reloader: { nativeSidecar: false },
    rbac: { create: false },
    serviceAccount: { create: false },
    app: { enabled: true, image, command: ['node', '-e', options.appScript], env: [{ name: 'UPSTREAMS', value: options.upstreams }] },
    config: { shutdownTimeoutSecs: options.shutdownTimeoutSecs, sites: options.sites },
  };
}

/** The config.toml the chart puts in its ConfigMap for these options: what kubelet would mount. */
export async function renderConfigToml(options: PodOptions): Promise<string> {
  const docs = parseAllDocuments(await helmTemplate(values(options))).map((d) => d.toJS() as { kind?: string; data?: Record<string, string> } | null);
  const toml = docs.find((d) => d?.kind === 'ConfigMap')?.data?.['config.toml'];
  if (toml === undefined) throw new Error('the chart rendered no ConfigMap with config.toml');
  return toml;
}

/** The Deployment YAML for `podman kube play`, with the ConfigMap at `configDir` and the proxy on 127.0.0.1:`hostPort`. */
export async function renderPodManifest(options: PodOptions, configDir: string, hostPort: number): Promise<string> {
  const docs = parseAllDocuments(await helmTemplate(values(options))).map((d) => d.toJS() as { kind?: string } | null);
  const deployment = docs.find((d) => d?.kind === 'Deployment') as Deployment | undefined;
  if (!deployment) throw new Error('the chart rendered no Deployment');
  const pod = deployment.spec.template.spec;

  const config = pod.volumes.find((v) => v.name === 'reverse-proxy-config');
  if (!config?.configMap) throw new Error('the Deployment has no reverse-proxy-config ConfigMap volume');
  delete config.configMap;
  config.hostPath = { path: configDir, type: 'Directory' };

  for (const c of pod.containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') {
        delete e.valueFrom;
        e.value = 'default';
      }
    }
  }
  pod.restartPolicy = 'Never';
  const http = pod.containers.find((c) => c.name === 'proxy')?.ports?.find((p) => p.name === 'http');
  if (!http) throw new Error('the proxy container has no http port');
  Object.assign(http, { hostPort, hostIP: '127.0.0.1' });
  // Quoted scalars: Go's YAML parser in podman misreads some folded blocks the JS library writes.
  return stringify(deployment, { blockQuote: false, lineWidth: 0 });
}
