// The master's requests to one worker over the IPC channel that wait for a reply, by id. Each
// has a deadline, so a worker that never answers (a hung event loop, a lost message) fails the
// request instead of holding its caller forever.

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class PendingReplies<T> {
  readonly #table = new Map<number, Pending<T>>();

  /** Registers `id`, then calls `send`; past `timeoutMs` rejects with `timeoutText` ("no answer within N ms"). */
  request(id: number, timeoutMs: number, send: () => void, timeoutText = `no answer within ${timeoutMs} ms`): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#table.delete(id);
        reject(new Error(timeoutText));
      }, timeoutMs);
      this.#table.set(id, { resolve, reject, timer });
      send();
    });
  }

  /** Ends request `id` with the worker's answer; a late answer (after the deadline) is ignored. */
  settle(id: number, outcome: { value: T } | { error: string }): void {
    const pending = this.#table.get(id);
    if (!pending) return;
    this.#table.delete(id);
    clearTimeout(pending.timer);
    if ('value' in outcome) pending.resolve(outcome.value);
    else pending.reject(new Error(outcome.error));
  }

  /** Fails every request still waiting; the worker is gone and will not answer. */
  rejectAll(err: Error): void {
    for (const pending of this.#table.values()) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.#table.clear();
  }
}
