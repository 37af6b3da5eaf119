/**
 * A scripted {@link StatusSource} for the status tests: three spot symbols plus USD-M BTCUSDT, whose counters
 * move on every snapshot so a page that polls must show changing values.
 */
import { FLUSH_SECONDS_BOUNDS, Histogram } from "../../lib/status/histogram.ts";
import type { StatusSnapshot, StatusSource, StreamStatus } from "../../lib/status/snapshot.ts";

export const FAKE_SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"] as const;

const STARTED_MS = Date.UTC(2025, 0, 6, 9, 0, 0);

/** Builds the snapshot of poll number `tick`: every figure is a function of the tick. */
export function fakeSnapshot(tick: number): StatusSnapshot {
  const nowMs = STARTED_MS + 3_600_000 + tick * 2000;
  const streams: StreamStatus[] = [];
  let n = 0;
  const add = (market: "spot" | "usdm", symbol: string, stream: string, perSec: number) => {
    n++;
    streams.push({
      market,
      symbol,
      stream,
      connected: true,
      stale: false,
      messages: Math.round(perSec * (3600 + tick * 2)),
      bytes: Math.round(perSec * (3600 + tick * 2)) * 180,
      msgsPerSec: perSec + (tick % 7) * 0.3 + n * 0.01,
      lastMessageAgeMs: ((tick * 137 + n * 53) % 900) + 20,
      gaps: n % 3 === 0 ? 1 : 0,
      gapsToday: n % 3 === 0 ? 2 : 0,
      coverageTodayPct: n % 3 === 0 ? 99.91 : 100,
    });
  };
  for (const [i, symbol] of FAKE_SYMBOLS.entries()) {
    add("spot", symbol, "depth@100ms", 10 - i);
    add("spot", symbol, "aggTrade", 25 / (i + 1));
    add("spot", symbol, "kline_1m", 1);
  }
  add("usdm", "BTCUSDT", "depth@100ms", 10);
  add("usdm", "BTCUSDT", "markPrice@1s", 1);
  const flushes = new Histogram(FLUSH_SECONDS_BOUNDS);
  for (let i = 0; i < 60 + tick; i++) flushes.observe(0.08 + (i % 5) * 0.05);
  return {
    version: "0.9.0-test",
    startedAtMs: STARTED_MS,
    nowMs,
    streams,
    books: [
      ...FAKE_SYMBOLS.map((symbol) => ({ market: "spot" as const, symbol, state: "synced", resyncs: 0 })),
      { market: "usdm", symbol: "BTCUSDT", state: "synced", resyncs: 1 },
    ],
    rest: [
      { market: "spot", weightUsed: 20 + tick, weightLimit: 6000 },
      { market: "usdm", weightUsed: 40 + tick, weightLimit: 2400 },
    ],
    clock: [
      { source: "ntp", offsetMs: 1.4, atMs: nowMs - 60_000 },
      { source: "binance-spot", offsetMs: -3.2, atMs: nowMs - 60_000 },
    ],
    disk: { path: "/var/lib/binance-collector/data", freeBytes: 41.3 * 2 ** 30, totalBytes: 100 * 2 ** 30 },
    journal: { unsyncedBytes: 12_288 + tick * 512, sinceFsyncMs: 300, errors: 0 },
    flushes: { durations: flushes.snapshot(), failures: 0 },
  };
}

/** Serves {@link fakeSnapshot} of an increasing tick; `edit` changes each snapshot (e.g. a disconnect). */
export class FakeStatusSource implements StatusSource {
  tick = 0;
  edit: ((s: StatusSnapshot) => void) | null = null;
  /** When set, `snapshot()` throws it (a collector that cannot report). */
  failure: Error | null = null;

  snapshot(): StatusSnapshot {
    if (this.failure) throw this.failure;
    const s = fakeSnapshot(this.tick++);
    this.edit?.(s);
    return s;
  }
}

/**
 * A whole-market snapshot: `spot` + `usdm` symbols with the default streams (4 on spot, 6 on USD-M), every
 * figure a function of the symbol's index. Symbol `i` of spot is `S{i}USDT`, of USD-M `F{i}USDT`; a few are in
 * trouble: spot S7USDT is disconnected, usdm F3USDT's book is buffering, spot S11USDT's aggTrade is stale, and
 * every 97th symbol has gaps today.
 */
export function fakeMarketSnapshot(
  spot: number,
  usdm: number,
  nowMs = STARTED_MS + 3_600_000,
): StatusSnapshot {
  const streams: StreamStatus[] = [];
  const books: StatusSnapshot["books"] = [];
  const kinds = {
    spot: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker"],
    usdm: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker", "forceOrder", "markPrice@1s"],
  } as const;
  for (const [market, n, prefix] of [["spot", spot, "S"], ["usdm", usdm, "F"]] as const) {
    for (let i = 0; i < n; i++) {
      const symbol = `${prefix}${i}USDT`;
      // A few busy symbols, a long quiet tail.
      const activity = 200 / (1 + i);
      for (const stream of kinds[market]) {
        streams.push({
          market,
          symbol,
          stream,
          connected: !(market === "spot" && i === 7),
          stale: market === "spot" && i === 11 && stream === "aggTrade",
          messages: Math.round(activity * 3600),
          bytes: Math.round(activity * 3600 * 150),
          msgsPerSec: activity,
          lastMessageAgeMs: 50 + (i % 17) * 30,
          gaps: i % 97 === 5 ? 1 : 0,
          gapsToday: i % 97 === 5 ? 2 : 0,
          coverageTodayPct: i % 97 === 5 ? 99.5 : 100,
        });
      }
      books.push({
        market,
        symbol,
        state: market === "usdm" && i === 3 ? "buffering" : "synced",
        resyncs: 0,
      });
    }
  }
  const snapshot = fakeSnapshot(0);
  return { ...snapshot, nowMs, streams, books };
}
