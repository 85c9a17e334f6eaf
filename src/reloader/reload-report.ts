// One reload outcome as the reloader tells it: the `reload` log line here, the metrics and the
// Kubernetes Event (kube-events.ts) from the same report.
import type { Logger } from '../log.ts';

export interface ReloadReport {
  result: 'ok' | 'failed';
  /** Hash the proxy runs after a success; the refused file's hash after a failure. */
  sha256: string;
  previousSha256: string;
  durationMs: number;
  /** The proxy's error for a failure. */
  message?: string;
  warnings: string[];
  generation?: number;
  trigger: string;
}

/** A hash as people read it in messages; the log fields keep the whole one. */
export const shortSha = (sha: string): string => sha.slice(0, 12);

export function logReload(logger: Logger, report: ReloadReport): void {
  const fields = {
    event: 'reload',
    result: report.result,
    sha256: report.sha256,
    previous_sha256: report.previousSha256,
    duration_ms: Math.round(report.durationMs),
    generation: report.generation,
    message: report.message,
    warnings: report.warnings.length > 0 ? report.warnings : undefined,
    trigger: report.trigger,
  };
  if (report.result === 'ok') logger.info(fields, `proxy reloaded config ${shortSha(report.sha256)}`);
  else logger.error(fields, `proxy refused config ${shortSha(report.sha256)}: ${report.message}`);
}
