/**
 * Funding of the simulated perpetuals (USD-M, and COIN-M `_PERP`; COIN-M delivery contracts have none):
 * settlements every 8 h (00:00, 08:00, 16:00 UTC), each with a rate
 * fixed by (seed, symbol, settlement time). The rate a `markPriceUpdate` announces (`r`) is the one later
 * recorded for its `T`, so the stream and REST `fundingRate` agree, and history before the simulator started
 * exists too (backfills have something to read).
 */
import { hashSeed } from "./prng.ts";

/** Time between funding settlements. */
export const FUNDING_INTERVAL_MS = 8 * 3_600_000;

/** Earliest settlement served (BTCUSDT perpetual's first funding, 2019-09-10). */
const FIRST_FUNDING_TIME = 1_568_102_400_000;

/** One settled funding. `rate` is in units of 1e-8; `markPrice` is in units of `10^-markDecimals`. */
export interface FundingRecord {
  fundingTime: number;
  rate: number;
  markPrice: number;
}

/**
 * The first settlement strictly after `now`.
 *
 * @example
 * ```ts
 * nextFundingTime(Date.UTC(2026, 0, 1, 7, 59)); // Date.UTC(2026, 0, 1, 8)
 * ```
 */
export function nextFundingTime(now: number): number {
  return (Math.floor(now / FUNDING_INTERVAL_MS) + 1) * FUNDING_INTERVAL_MS;
}

/**
 * Funding rate (1e-8 units) settled at `fundingTime`: mostly the 0.01 % base rate, sometimes off it.
 *
 * @example
 * ```ts
 * fundingRateAt(1, "BTCUSDT", Date.UTC(2026, 0, 1, 8)); // e.g. 10000 = 0.0001
 * ```
 */
export function fundingRateAt(seed: number, symbol: string, fundingTime: number): number {
  const u = hashSeed(seed, "funding", symbol, fundingTime) / 4294967296;
  if (u < 0.6) return 10_000;
  return Math.round((u - 0.75) * 80_000);
}

/** Query of REST `fundingRate` for one symbol (already validated). */
export interface FundingQuery {
  startTime?: number;
  endTime?: number;
  limit: number;
}

/**
 * Settled fundings up to `now`, ascending. Binance semantics: `startTime` → from there on; otherwise the latest
 * `limit` up to `endTime` (or now). `markAt` gives the mark price at a settlement time.
 */
export function fundingHistory(
  seed: number,
  symbol: string,
  q: FundingQuery,
  now: number,
  markAt: (time: number) => number,
): FundingRecord[] {
  const last = Math.floor(Math.min(now, q.endTime ?? now) / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
  const first = q.startTime !== undefined
    ? Math.ceil(q.startTime / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS
    : last - (q.limit - 1) * FUNDING_INTERVAL_MS;
  const out: FundingRecord[] = [];
  for (
    let t = Math.max(first, FIRST_FUNDING_TIME);
    t <= last && out.length < q.limit;
    t += FUNDING_INTERVAL_MS
  ) {
    out.push({ fundingTime: t, rate: fundingRateAt(seed, symbol, t), markPrice: markAt(t) });
  }
  return out;
}
