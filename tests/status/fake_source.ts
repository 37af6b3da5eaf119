/**
 * A scripted {@link StatusSource} for the status tests: three spot symbols plus USD-M BTCUSDT, whose counters
 * move on every snapshot so a page that polls must show changing values.
 */
import { dayFromRows } from "../../lib/charts/day_coverage.ts";
import type { CoverageRow, GapRecord } from "../../lib/ledger/records.ts";
import type { ChartSource } from "../../lib/status/charts_api.ts";
import { FLUSH_SECONDS_BOUNDS, Histogram } from "../../lib/status/histogram.ts";
import type { RateSeries } from "../../lib/status/rate_history.ts";
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

/**
 * Chart data of a whole market for the page: `spot` + `usdm` symbols named as in {@link fakeMarketSnapshot}, two
 * streams each, every hour of the day up to `hours` complete except spot S5USDT's aggTrade in hour 3 (a 10-minute
 * disconnect gap, 83.33%); rates of both markets over the hour before now, one point every 10 s.
 */
export function fakeChartSource(spot: number, usdm: number, date: string, hours = 12): ChartSource {
  const dayUs = Date.parse(`${date}T00:00:00Z`) * 1000;
  const H = 3_600_000_000;
  const rows: CoverageRow[] = [];
  const gapStart = dayUs + 3 * H + 20 * 60e6;
  const gaps: GapRecord[] = [{
    market: "spot",
    row: {
      symbol: "S5USDT",
      stream: "aggTrade",
      kind: "disconnect",
      start_time: gapStart,
      end_time: gapStart + 600e6,
      last_update_id: null,
      resume_update_id: null,
      reason: "connection closed by the server (code 1011)",
    },
    recoveredAtUs: null,
    recoveryNote: null,
  }];
  for (const [market, n, prefix] of [["spot", spot, "S"], ["usdm", usdm, "F"]] as const) {
    for (let i = 0; i < n; i++) {
      for (const stream of ["depth@100ms", "aggTrade"]) {
        for (let h = 0; h < hours; h++) {
          const gap = market === "spot" && i === 5 && stream === "aggTrade" && h === 3;
          rows.push({
            market,
            symbol: `${prefix}${i}USDT`,
            stream,
            hourUs: dayUs + h * H,
            messages: Math.round(720_000 / (1 + i)),
            gaps: gap ? 1 : 0,
            recordedSeconds: 3600,
            observedSeconds: 3600,
            gapSeconds: gap ? 600 : 0,
            recoveredSeconds: 0,
            coveredSeconds: gap ? 3000 : 3600,
            pct: gap ? (3000 / 3600) * 100 : 100,
          });
        }
      }
    }
  }
  const day = dayFromRows(date, rows, gaps);
  // The page draws the last hour before the server's clock.
  const series = (): RateSeries[] =>
    (["spot", "usdm"] as const).map((market, m) => ({
      market,
      points: Array.from({ length: 360 }, (_, i): [number, number] => [
        Date.now() - 3_600_000 + i * 10_000,
        (m === 0 ? 12_000 : 5_000) + 2_000 * Math.sin(i / 20),
      ]),
    }));
  return { coverageDay: (d) => Promise.resolve(d === date ? day : dayFromRows(d, [], [])), rates: series };
}
