/**
 * Seeded pseudo-random numbers for the simulator: the same seed gives the same market, run after run.
 *
 * mulberry32 is tiny, fast and good enough for a market model; it is not for cryptography.
 */

/**
 * Hashes seed parts (numbers and strings) into a 32-bit seed, so that each (market, symbol) gets its own
 * stream of numbers and adding a symbol does not change the others.
 *
 * @example
 * ```ts
 * const seed = hashSeed(1, "spot", "BTCUSDT");
 * ```
 */
export function hashSeed(...parts: readonly (string | number)[]): number {
  // FNV-1a over the parts' text, with a separator so ("ab","c") differs from ("a","bc").
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${part}\u0000`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}

/**
 * A deterministic random source.
 *
 * @example
 * ```ts
 * const rng = new Prng(42);
 * const coin = rng.next() < 0.5;
 * ```
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A standard normal variate (Box–Muller; one of the pair is discarded to keep no state). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** How many events happen in a step whose expected count is `mean`: the integer part plus a Bernoulli rest. */
  count(mean: number): number {
    const whole = Math.floor(mean);
    return whole + (this.next() < mean - whole ? 1 : 0);
  }
}
