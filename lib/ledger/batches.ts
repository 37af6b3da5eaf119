/**
 * Splitting many writes into atomic operations that fit Deno KV's per-commit limits (pure).
 * @module
 */

/**
 * Deno KV's limits on one atomic operation, as Deno 2.9 reports them when exceeded: mutations, total key bytes
 * and total mutation bytes.
 */
export const ATOMIC_LIMITS = { mutations: 1000, keyBytes: 81_920, mutationBytes: 819_200 } as const;

// Sizes are estimated (KV encodes keys and V8-serializes values), so batches use only part of each limit.
const BUDGET = 0.75;

/** Estimated encoded size of one write. */
export interface WriteCost {
  keyBytes: number;
  valueBytes: number;
}

/**
 * Estimated cost of writing `value` under a key whose variable part is `keyText`: UTF-8 key bytes plus framing,
 * and twice the JSON length for the value (V8 writes two-byte strings as UTF-16).
 */
export function estimateCost(keyText: string, value: unknown): WriteCost {
  const enc = new TextEncoder();
  return {
    keyBytes: enc.encode(keyText).length + 32,
    valueBytes: 2 * (value === undefined ? 0 : JSON.stringify(value).length) + 64,
  };
}

/**
 * Splits `items` into consecutive batches whose writes fit one atomic operation, leaving room for
 * `reservedMutations` other writes in each. Always returns at least one (possibly empty) batch.
 *
 * @example
 * ```ts
 * const entries = Array.from({ length: 300 }, (_, i) => ({ path: `spot/trades/date=2024-01-02/p-${i}.parquet` }));
 * splitBatches(entries, (e) => estimateCost(e.path, e)).length; // 1 for a few hundred manifest entries
 * ```
 */
export function splitBatches<T>(
  items: readonly T[],
  cost: (item: T) => WriteCost,
  reservedMutations = 0,
): T[][] {
  const maxMutations = Math.floor(ATOMIC_LIMITS.mutations * BUDGET) - reservedMutations;
  const maxKeys = ATOMIC_LIMITS.keyBytes * BUDGET;
  const maxBytes = ATOMIC_LIMITS.mutationBytes * BUDGET;
  const batches: T[][] = [[]];
  let keys = 0;
  let bytes = 0;
  for (const item of items) {
    const c = cost(item);
    if (c.keyBytes > maxKeys || c.keyBytes + c.valueBytes > maxBytes) {
      throw new RangeError(`Cannot batch a write of ${c.keyBytes + c.valueBytes} bytes: too large for KV`);
    }
    let batch = batches[batches.length - 1]!;
    if (
      batch.length >= maxMutations || keys + c.keyBytes > maxKeys ||
      bytes + c.keyBytes + c.valueBytes > maxBytes
    ) {
      batches.push(batch = []);
      keys = 0;
      bytes = 0;
    }
    batch.push(item);
    keys += c.keyBytes;
    bytes += c.keyBytes + c.valueBytes;
  }
  return batches;
}
