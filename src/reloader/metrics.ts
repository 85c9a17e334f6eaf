// The reloader's counters and gauges, rendered in the Prometheus text exposition format
// (version 0.0.4). Few enough series that a hand-written renderer beats a dependency.

type ReloadResult = 'ok' | 'failed';
type KubeEventResult = 'created' | 'failed' | 'dropped';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Milliseconds as seconds to the microsecond: `0.012346`, not the `0.012345678901` of a raw
 * performance.now() difference (nor `0.30000000000000004`): dividing a whole number of
 * microseconds prints the shortest decimal that round-trips.
 */
function toSeconds(ms: number): number {
  return Math.round(ms * 1000) / 1e6;
}

export class ReloaderMetrics {
  readonly reloads: Record<ReloadResult, number> = { ok: 0, failed: 0 };
  readonly kubeEvents: Record<KubeEventResult, number> = { created: 0, failed: 0, dropped: 0 };
  lastReloadEpochSecs = 0;
  lastReloadSuccess: boolean | undefined;
  lastReloadDurationSecs = 0;
  watcherErrors = 0;
  watcherRestarts = 0;
  socketErrors = 0;
  configReadErrors = 0;
  /** 1 when the proxy was last seen running the mounted file's hash. */
  inSync = false;
  /** 1 while the admin socket answers. */
  proxyUp = false;

  recordReload(result: ReloadResult, durationMs: number, at = Date.now()): void {
    this.reloads[result]++;
    this.lastReloadEpochSecs = toSeconds(at);
    this.lastReloadSuccess = result === 'ok';
    this.lastReloadDurationSecs = toSeconds(durationMs);
  }

  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [labels: string, value: number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`);
    };
    const byLabel = (label: string, values: Record<string, number>): [string, number][] =>
      Object.entries(values).map(([key, value]) => [`{${label}="${key}"}`, value]);

    metric('reverse_proxy_reloader_reloads_total', 'counter', 'Reloads requested by the reloader, by result.', byLabel('result', this.reloads));
    metric('reverse_proxy_reloader_last_reload_timestamp_seconds', 'gauge', 'Unix time of the last reload attempt (0 before the first).', [['', this.lastReloadEpochSecs]]);
    metric('reverse_proxy_reloader_last_reload_success', 'gauge', '1 if the last reload succeeded, 0 if it failed, absent before the first.',
      this.lastReloadSuccess === undefined ? [] : [['', this.lastReloadSuccess ? 1 : 0]]);
    metric('reverse_proxy_reloader_last_reload_duration_seconds', 'gauge', 'Duration of the last reload, including the confirmation.', [['', this.lastReloadDurationSecs]]);
    metric('reverse_proxy_reloader_config_in_sync', 'gauge', '1 if the proxy was last seen running the mounted config.', [['', this.inSync ? 1 : 0]]);
    metric('reverse_proxy_reloader_proxy_up', 'gauge', '1 if the proxy answered on the admin socket at the last attempt.', [['', this.proxyUp ? 1 : 0]]);
    metric('reverse_proxy_reloader_watcher_errors_total', 'counter', 'Errors reported by the filesystem watcher.', [['', this.watcherErrors]]);
    metric('reverse_proxy_reloader_watcher_restarts_total', 'counter', 'Times the filesystem watcher was recreated.', [['', this.watcherRestarts]]);
    metric('reverse_proxy_reloader_socket_errors_total', 'counter', 'Failed exchanges with the admin socket (missing, refused, timed out, bad reply).', [['', this.socketErrors]]);
    metric('reverse_proxy_reloader_config_read_errors_total', 'counter', 'Failed reads of the mounted config file.', [['', this.configReadErrors]]);
    metric('reverse_proxy_reloader_kube_events_total', 'counter', 'Kubernetes Events by result (dropped: too many were pending).', byLabel('result', this.kubeEvents));
    return `${out.join('\n')}\n`;
  }
}
