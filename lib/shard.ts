/**
 * Shards: several collectors share a market's symbols. Each (market, symbol) goes to `replicas` of `count`
 * shards by rendezvous hashing (highest random weight): deterministic, needing no coordination, and stable, as
 * adding a shard moves only the symbols it wins (about 1 in count + 1). Pure.
 * @module
 */
import type { Market } from "./binance/markets.ts";

/** This collector's place in a fleet (`shard:` in the config). */
export interface Shard {
  /** 0-based, below `count`. */
  readonly index: number;
  readonly count: number;
  /** Shards recording each symbol (2 for redundant recordings in two places). */
  readonly replicas: number;
  /** In file names and ledger keys: `s<index>` unless set. */
  readonly name: string;
}

/** FNV-1a 32-bit, then a murmur3 finalizer so that nearby inputs spread over the whole range. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The shard indices that record `symbol` of `market`: the `replicas` with the highest weights, in order.
 *
 * @example
 * ```ts
 * assignedShards("spot", "BTCUSDT", 3, 1).length; // 1
 * assignedShards("spot", "BTCUSDT", 3, 2).length; // 2, one of them the shard above
 * ```
 */
export function assignedShards(market: Market, symbol: string, count: number, replicas: number): number[] {
  const weights = Array.from({ length: count }, (_, i) => ({ i, w: hash32(`${market}:${symbol}:${i}`) }));
  weights.sort((a, b) => b.w - a.w || a.i - b.i);
  return weights.slice(0, Math.min(replicas, count)).map((x) => x.i);
}

/**
 * Whether `shard` records `symbol` of `market`; every symbol without a shard.
 *
 * @example
 * ```ts
 * const shards = [0, 1, 2].map((index) => ({ index, count: 3, replicas: 1, name: `s${index}` }));
 * shards.filter((s) => recordsSymbol(s, "usdm", "ETHUSDT")).length; // 1
 * ```
 */
export function recordsSymbol(shard: Shard | null, market: Market, symbol: string): boolean {
  return shard === null || assignedShards(market, symbol, shard.count, shard.replicas).includes(shard.index);
}
