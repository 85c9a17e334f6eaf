// Runs one job at a time on request. A trigger that arrives while the job runs is remembered
// (the first reason wins) and runs right after, so no request is lost and runs never overlap;
// a burst of triggers during one run costs one more run, not one per trigger.
export class TriggerLoop {
  readonly #job: (reason: string) => Promise<void>;
  readonly #onError: (err: unknown, reason: string) => void;
  #pendingTrigger: string | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #timerDueAt = Infinity;

  /** `onError` hears a job that threw; the loop goes on, so the next trigger retries. */
  constructor(job: (reason: string) => Promise<void>, onError: (err: unknown, reason: string) => void) {
    this.#job = job;
    this.#onError = onError;
  }

  /** Asks for a run; cheap and safe to call on every filesystem event. */
  trigger(reason: string): void {
    if (this.#stopped) return;
    this.#pendingTrigger ??= reason;
    this.#running ??= this.#drain();
  }

  /** Resolves once no run is in progress or queued. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops scheduling work at once; the run in progress (if any) still finishes. */
  halt(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Stops scheduling work and resolves once the run in progress (if any) finished. */
  async stop(): Promise<void> {
    this.halt();
    await this.idle();
  }

  /**
   * Triggers after `delayMs`. Only the earliest of several pending requests is kept: each
   * run re-decides what it waits for, so a later timer would only repeat it.
   */
  schedule(delayMs: number, reason: string): void {
    const dueAt = Date.now() + delayMs;
    if (this.#stopped || dueAt >= this.#timerDueAt) return;
    clearTimeout(this.#timer);
    this.#timerDueAt = dueAt;
    this.#timer = setTimeout(() => {
      this.#timerDueAt = Infinity;
      this.trigger(reason);
    }, delayMs);
    this.#timer.unref();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pendingTrigger !== undefined && !this.#stopped) {
        const reason = this.#pendingTrigger;
        this.#pendingTrigger = undefined;
        try {
          await this.#job(reason);
        } catch (err) {
          this.#onError(err, reason);
        }
      }
    } finally {
      // Synchronous with the loop's last check, so a trigger can never fall in between.
      this.#running = undefined;
    }
  }
}
