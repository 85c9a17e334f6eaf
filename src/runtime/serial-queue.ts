// Runs tasks one at a time, in arrival order. The master has exactly one of these: SIGHUP
// reloads, socket reloads and restarts all pass through it, so they can never overlap.

export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled. Always starts asynchronously. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Shares one queued run of `task` among every caller that asks while it waits its turn.
 * A caller always gets the result of a run that started after it asked, so a reload request
 * always sees the file as it was when its reload began, yet ten requests in a burst cost one
 * extra reload rather than ten.
 */
export class CoalescingTask<T> {
  readonly #queue: SerialQueue;
  readonly #task: () => Promise<T>;
  #waiting: Promise<T> | undefined;

  constructor(queue: SerialQueue, task: () => Promise<T>) {
    this.#queue = queue;
    this.#task = task;
  }

  run(): Promise<T> {
    if (this.#waiting) return this.#waiting;
    const waiting = this.#queue.run(() => {
      this.#waiting = undefined;
      return this.#task();
    });
    this.#waiting = waiting;
    return waiting;
  }
}
