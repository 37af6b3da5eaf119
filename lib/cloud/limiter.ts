/**
 * A concurrency limit for async work. KV's queue hands every due message to the handler at once; after an
 * outage that can be hundreds of uploads, so the handler runs them a few at a time.
 * @module
 */

/**
 * Runs at most `max` tasks at a time, the rest in arrival order.
 *
 * @example
 * ```ts
 * const limiter = new Limiter(2);
 * let running = 0;
 * let most = 0;
 * const upload = async (file: string) => {
 *   most = Math.max(most, ++running);
 *   await new Promise((resolve) => setTimeout(resolve, 10));
 *   running--;
 *   return file;
 * };
 * const files = ["a", "b", "c", "d"];
 * await Promise.all(files.map((f) => limiter.run(() => upload(f)))); // ["a", "b", "c", "d"]
 * most; // 2
 * ```
 */
export class Limiter {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot limit concurrency: 'max' must be a positive integer: ${max}`);
    }
  }

  /** Runs `task` once a slot is free; settles as it does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so #active only drops when nobody waits.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
