/**
 * The write side of coverage: a flush's samples for many stream-hours at once, folded into the stored values
 * in atomic batches that check the versions they assumed. The values it wrote last are kept in memory for the
 * hours still being filled, so a flush mostly writes without reading; that cache is why this is an object of
 * its own, which the ledger holds.
 * @module
 */

import type { Market } from "../binance/types.ts";
import { LedgerConflictError } from "./conflicts.ts";
import { addSample } from "./coverage.ts";
import { HOUR_US } from "./intervals.ts";
import { coverageKey } from "./keys.ts";
import { checkMarket, type CoverageSample, type CoverageValue } from "./records.ts";

/** Checks allowed in one atomic operation (Deno KV). */
const MAX_CHECKS = 100;

/** One stream-hour's sample for {@link Ledger.addCoverageMany}. */
export interface CoverageItem {
  market: Market;
  symbol: string;
  stream: string;
  hourUs: number;
  sample: CoverageSample;
}

/** Adds coverage samples to a KV handle; see {@linkcode Ledger.addCoverageMany}. */
export class CoverageWriter {
  /** Coverage values this writer wrote last, by stream-hour. */
  readonly #cache = new Map<string, Deno.KvEntryMaybe<CoverageValue>>();
  /** The newest hour the cache was pruned for. */
  #newest = -Infinity;

  constructor(readonly kv: Deno.Kv, readonly maxAttempts: number) {}

  /**
   * Adds each item's sample to its stream-hour. Values not in the cache are read 10 keys per call (Deno KV's
   * `getMany` limit); writes go {@linkcode MAX_CHECKS} per atomic commit, and a commit that lost a race is read
   * and retried, then throws {@linkcode LedgerConflictError}.
   */
  async add(items: readonly CoverageItem[]): Promise<void> {
    const what = "add coverage";
    for (const it of items) {
      checkMarket(what, it.market);
      if (it.hourUs % HOUR_US !== 0) {
        throw new RangeError(`Cannot ${what}: hourUs ${it.hourUs} is not an hour start`);
      }
      if (it.sample.spanEndUs < it.sample.spanStartUs) {
        throw new RangeError(`Cannot ${what}: span ends before it starts`);
      }
    }
    const cache = this.#cache;
    const keyOf = (it: CoverageItem) => coverageKey(it.hourUs, it.market, it.symbol, it.stream);
    const idOf = (it: CoverageItem) => `${it.hourUs}\u0000${it.market}\u0000${it.symbol}\u0000${it.stream}`;
    for (let at = 0; at < items.length; at += MAX_CHECKS) {
      const batch = items.slice(at, at + MAX_CHECKS);
      for (let attempt = 1;; attempt++) {
        const missing = attempt === 1 ? batch.filter((it) => !cache.has(idOf(it))) : batch;
        for (let i = 0; i < missing.length; i += 10) {
          const part = missing.slice(i, i + 10);
          const got = await this.kv.getMany<CoverageValue[]>(part.map(keyOf));
          part.forEach((it, j) => cache.set(idOf(it), got[j]!));
        }
        const op = this.kv.atomic();
        const next = batch.map((it) => {
          const entry = cache.get(idOf(it))!;
          const value = addSample(entry.value, it.hourUs, it.sample);
          op.check(entry).set(entry.key, value);
          return { it, key: entry.key, value };
        });
        const res = await op.commit();
        if (res.ok) {
          for (const n of next) {
            cache.set(idOf(n.it), { key: n.key, value: n.value, versionstamp: res.versionstamp });
          }
          break;
        }
        if (attempt >= this.maxAttempts) throw new LedgerConflictError(keyOf(batch[0]!), this.maxAttempts);
      }
    }
    // Only the hours still being filled are worth keeping (looked over when a newer hour comes: a flush writes
    // its coverage in slices, and a whole market's cache holds ~20,000 stream-hours).
    const newest = items.reduce((h, it) => Math.max(h, it.hourUs), -Infinity);
    if (newest > this.#newest) {
      this.#newest = newest;
      for (const [id, entry] of cache) {
        if ((entry.key[1] as number) < newest - HOUR_US) cache.delete(id);
      }
    }
  }
}
