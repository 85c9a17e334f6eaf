// The master's account of its reloads and restarts: the counters and last outcome that
// `show info`, `show proc` and the metrics report, and the one `reload` / `restart` log line
// each outcome gets (docs/architecture.md, "Log events").
import type { ReloadOutcome } from '../admin/backend.ts';
import { ReloadTimeoutError } from '../errors.ts';
import type { Logger } from '../log.ts';

interface ReloadRecord {
  at: Date;
  result: 'ok' | 'failed';
  message: string | null;
}

export class ReloadHistory {
  readonly #logger: Logger;
  #ok = 0;
  #failed = 0;
  #last: ReloadRecord | undefined;
  /** Epoch ms of the last success; the start counts as one, so the metric is never empty. */
  #lastSuccessAt = Date.now();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get ok(): number {
    return this.#ok;
  }

  get failed(): number {
    return this.#failed;
  }

  get last(): Readonly<ReloadRecord> | undefined {
    return this.#last;
  }

  get lastSuccessAt(): number {
    return this.#lastSuccessAt;
  }

  /**
   * Counts and logs one outcome. `generation`: the one the master runs after it; `extra`: more
   * fields for the log line (how many sites a reload parsed and kept).
   */
  record(
    outcome: ReloadOutcome,
    kind: 'reload' | 'restart',
    triggers: string[],
    started: number,
    generation: { id: number; sha256: string },
    extra: Record<string, number> = {},
  ): void {
    const fields = { event: kind, triggers, generation: generation.id, sha256: generation.sha256, duration_ms: Math.round((performance.now() - started) * 100) / 100, ...extra };
    if (outcome.ok) {
      this.#ok++;
      this.#last = { at: new Date(), result: 'ok', message: null };
      this.#lastSuccessAt = this.#last.at.getTime();
      const warnings = outcome.warnings.length ? { warnings: outcome.warnings } : {};
      this.#logger.info({ ...fields, result: 'ok', ...warnings }, `${kind} applied generation ${generation.id}`);
    } else {
      this.#failed++;
      this.#last = { at: new Date(), result: 'failed', message: outcome.message };
      this.#logger.error({ ...fields, result: 'failed', message: outcome.message }, `${kind} failed; the running config keeps serving: ${outcome.message}`);
    }
  }

  /** A reload still running at `timeoutMs` fails; the queue moves on without it. */
  timedOut(timeoutMs: number): ReloadOutcome {
    const outcome: ReloadOutcome = { ok: false, message: new ReloadTimeoutError(timeoutMs).message };
    this.#failed++;
    this.#last = { at: new Date(), result: 'failed', message: outcome.message };
    this.#logger.error({ event: 'reload', result: 'failed', code: 'ERR_RELOAD_TIMEOUT', timeout_ms: timeoutMs, message: outcome.message }, outcome.message);
    return outcome;
  }
}
