// Reports reload outcomes as core/v1 Events on the pod, so `kubectl describe pod` and
// `kubectl get events` show them. Fire-and-forget: an Event is never awaited by the reload
// path, a slow or failing API server only costs a log line, and a bounded number of Events
// may be pending at once.
import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig, V1MicroTime, type CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { errorText } from './error-text.ts';
import type { ReloaderMetrics } from './metrics.ts';
import type { ReloadReport } from './reload-report.ts';

const EVENT_COMPONENT = 'reverse-proxy-reloader';
const REASON_RELOADED = 'Reloaded';
const REASON_RELOAD_FAILED = 'ReloadFailed';
/** Events in flight beyond this are dropped (and counted) rather than queued without bound. */
export const MAX_PENDING_EVENTS = 16;
/** The API server rejects a core/v1 Event whose message is longer (validation NoteLengthLimit). */
export const EVENT_MESSAGE_MAX_BYTES = 1024;
/** Where the kubelet mounts the service-account token; its presence means "in a cluster". */
const SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

interface PodRef {
  name: string;
  namespace: string;
  uid: string | undefined;
}

interface EventSink {
  report(report: ReloadReport): void;
  /** Resolves when every Event sent so far has been answered (tests, shutdown). */
  idle(): Promise<void>;
}

/** The pod from the downward API (POD_NAME, POD_NAMESPACE, POD_UID), if it is set. */
function podFromEnv(env: NodeJS.ProcessEnv): PodRef | undefined {
  const name = env['POD_NAME'];
  const namespace = env['POD_NAMESPACE'];
  if (!name || !namespace) return undefined;
  return { name, namespace, uid: env['POD_UID'] || undefined };
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const suffix = '…';
  let bytes = Buffer.from(text).subarray(0, maxBytes - Buffer.byteLength(suffix));
  // Drop a partial multi-byte character left at the cut.
  while (bytes.length > 0 && (bytes[bytes.length - 1]! & 0xc0) === 0x80) bytes = bytes.subarray(0, -1);
  if (bytes.length > 0 && bytes[bytes.length - 1]! >= 0xc0) bytes = bytes.subarray(0, -1);
  return bytes.toString('utf8') + suffix;
}

function eventMessage(report: ReloadReport): string {
  const sha = report.sha256.slice(0, 12);
  const text =
    report.result === 'ok'
      ? `reloaded config ${sha}${report.generation === undefined ? '' : ` (generation ${report.generation})`} in ${Math.round(report.durationMs)} ms` +
        (report.warnings.length > 0 ? `; warnings: ${report.warnings.join('; ')}` : '')
      : `reload of config ${sha} failed: ${report.message ?? 'unknown error'}`;
  return truncateUtf8(text, EVENT_MESSAGE_MAX_BYTES);
}

let eventSequence = 0;

function buildEvent(pod: PodRef, report: ReloadReport, instance: string, now = new Date()): CoreV1Event {
  const ok = report.result === 'ok';
  return {
    metadata: {
      // client-go's naming, <object>.<unix nanos in hex>; the sequence keeps two Events in one millisecond apart.
      name: `${pod.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(eventSequence++ % 1_000_000)).toString(16)}`,
      namespace: pod.namespace,
    },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.name, namespace: pod.namespace, uid: pod.uid },
    reason: ok ? REASON_RELOADED : REASON_RELOAD_FAILED,
    type: ok ? 'Normal' : 'Warning',
    message: eventMessage(report),
    action: 'Reload',
    source: { component: EVENT_COMPONENT },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: instance,
    firstTimestamp: now,
    lastTimestamp: now,
    eventTime: new V1MicroTime(now.getTime()),
    count: 1,
  };
}

/** Where to find the API server: KUBECONFIG if set (also how tests point at a stand-in), else in-cluster. */
function loadKubeConfig(env: NodeJS.ProcessEnv): KubeConfig | string {
  const kubeConfig = new KubeConfig();
  const file = env['KUBECONFIG'];
  if (file) {
    kubeConfig.loadFromFile(file);
    return kubeConfig;
  }
  if (!env['KUBERNETES_SERVICE_HOST'] || !existsSync(SERVICE_ACCOUNT_TOKEN_PATH)) return 'no service-account token and no KUBECONFIG: not running in a cluster';
  kubeConfig.loadFromCluster();
  return kubeConfig;
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's own words (the Status body's message) rather than the client's dump of headers. */
function apiErrorMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      return body.slice(0, 200);
    }
  }
  return errorText(err);
}

const disabledSink: EventSink = { report: () => {}, idle: async () => {} };

export function createEventSink(env: NodeJS.ProcessEnv, logger: Logger, metrics: ReloaderMetrics): EventSink {
  const pod = podFromEnv(env);
  if (!pod) {
    logger.info({ event: 'kube_events_disabled' }, 'POD_NAME/POD_NAMESPACE not set (downward API): reload outcomes are only logged');
    return disabledSink;
  }
  let kubeConfig: KubeConfig | string;
  try {
    kubeConfig = loadKubeConfig(env);
  } catch (err) {
    kubeConfig = `cannot load the Kubernetes client config: ${(err as Error).message}`;
  }
  if (typeof kubeConfig === 'string') {
    logger.info({ event: 'kube_events_disabled' }, `${kubeConfig}; reload outcomes are only logged`);
    return disabledSink;
  }
  if (!pod.uid) logger.warn({ event: 'kube_events_no_uid' }, 'POD_UID not set: Events will name the pod without its uid');

  const api = kubeConfig.makeApiClient(CoreV1Api);
  const instance = env['HOSTNAME'] || pod.name;
  const pending = new Set<Promise<void>>();
  const warnedStatuses = new Set<string>();

  const send = async (report: ReloadReport) => {
    const body = buildEvent(pod, report, instance);
    try {
      await api.createNamespacedEvent({ namespace: pod.namespace, body });
      metrics.kubeEvents.created++;
    } catch (err) {
      metrics.kubeEvents.failed++;
      const status = statusOf(err);
      const message = apiErrorMessage(err);
      const kind = String(status ?? message);
      // Once per kind of failure: a missing RBAC rule would otherwise log on every reload.
      const level = warnedStatuses.has(kind) ? 'debug' : 'warn';
      warnedStatuses.add(kind);
      const hint = status === 403 ? ' (RBAC: the service account needs "create" on "events" in this namespace)' : '';
      logger[level]({ event: 'kube_event_failed', status, reason: body.reason, err: message }, `cannot create the Kubernetes Event${hint}; carrying on`);
    }
  };

  return {
    report(report) {
      if (pending.size >= MAX_PENDING_EVENTS) {
        metrics.kubeEvents.dropped++;
        return;
      }
      const sent = send(report).finally(() => pending.delete(sent));
      pending.add(sent);
    },
    async idle() {
      await Promise.all(pending);
    },
  };
}
