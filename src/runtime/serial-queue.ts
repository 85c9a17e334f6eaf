// Runs tasks one at a time, in arrival order. The master has exactly one of these: SIGHUP
// reloads, socket reloads and restarts all pass through it, so they can never overlap.

/** A task that has not settled `ms` after it started gives way: its caller gets `onTimeout()`. */
interface TaskDeadline<T> {
  ms: number;
  onTimeout(): T;
}

export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `task` after every task queued before it has settled (or passed its deadline). Always
   * starts asynchronously. A task past its deadline keeps running, but no longer holds the queue.
   */
  run<T>(task: () => Promise<T>, deadline?: TaskDeadline<T>): Promise<T> {
    const bounded = deadline ? () => within(task(), deadline) : task;
    const result = this.#tail.then(bounded, bounded);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

function within<T>(running: Promise<T>, deadline: TaskDeadline<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(deadline.onTimeout()), deadline.ms)));
  return Promise.race([running, timedOut]).finally(() => clearTimeout(timer));
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
  readonly #deadline: TaskDeadline<T> | undefined;
  #waiting: Promise<T> | undefined;

  constructor(queue: SerialQueue, task: () => Promise<T>, deadline?: TaskDeadline<T>) {
    this.#queue = queue;
    this.#task = task;
    this.#deadline = deadline;
  }

  run(): Promise<T> {
    if (this.#waiting) return this.#waiting;
    const waiting = this.#queue.run(() => {
      this.#waiting = undefined;
      return this.#task();
    }, this.#deadline);
    this.#waiting = waiting;
    return waiting;
  }
}
