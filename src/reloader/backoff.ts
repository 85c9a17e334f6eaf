// Capped exponential backoff: initial, 2×, 4×, … up to max, until reset.

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #attempts = 0;

  constructor(initialMs: number, maxMs: number) {
    this.#initialMs = initialMs;
    this.#maxMs = Math.max(initialMs, maxMs);
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    // Bounded exponent: 2 ** 40 already exceeds any sane cap, and keeps the math finite.
    const delay = this.#initialMs * 2 ** Math.min(this.#attempts, 40);
    this.#attempts++;
    return Math.min(delay, this.#maxMs);
  }

  reset(): void {
    this.#attempts = 0;
  }
}
