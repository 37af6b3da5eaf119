/**
 * A hand-built ledger for 2024-01-02 whose coverage and report figures are worked out by hand in the tests.
 *
 * Streams: A = spot BTCUSDT aggTrade, B = spot BTCUSDT depth@100ms, C = usdm ETHUSDT markPrice@1s,
 * E = spot BTCUSDT bookTicker. Times are offsets from midnight `D`.
 */
import type { Market } from "../../lib/binance/types.ts";
import { DAY_US, HOUR_US } from "../../lib/ledger/intervals.ts";
import type { Ledger } from "../../lib/ledger/ledger.ts";
import { isoMicros, type ManifestEntry } from "../../lib/storage/manifest.ts";
import type { Row } from "../../lib/storage/tables.ts";

export const S = 1_000_000;
export const M = 60 * S;
/** 2024-01-02T00:00:00Z in µs. */
export const D = 19_724 * DAY_US;
export const DATE = "2024-01-02";

/** A gap row of `symbol`/`stream`. */
export function gapRow(
  symbol: string,
  stream: string,
  kind: string,
  startUs: number,
  endUs: number,
  reason = `${kind} on ${stream}`,
): Row<"gaps"> {
  return {
    symbol,
    stream,
    kind,
    start_time: startUs,
    end_time: endUs,
    last_update_id: null,
    resume_update_id: null,
    reason,
  };
}

/**
 * A manifest entry of a trades/mark_prices file with the given figures. The path keeps the 0.3 layout's
 * `symbol=` level so that the sample's files stay apart; the ledger treats paths as opaque.
 */
export function fileEntry(
  market: Market,
  table: "trades" | "mark_prices",
  symbol: string,
  firstUs: number,
  seq: number,
  rows: number,
  bytes: number,
): ManifestEntry {
  const date = isoMicros(firstUs).slice(0, 10);
  const hh = isoMicros(firstUs).slice(11, 13);
  return {
    path: `${market}/${table}/date=${date}/symbol=${symbol}/part-${hh}-${String(firstUs).padStart(16, "0")}-${
      String(seq).padStart(6, "0")
    }.parquet`,
    sha256: seq.toString(16).padStart(64, "0"),
    rows,
    bytes,
    first_local_time: isoMicros(firstUs),
    last_local_time: isoMicros(firstUs + 1000),
    market,
    table,
  };
}

/** Fills `ledger` with the sample day (see the module doc). */
export async function buildSampleLedger(ledger: Ledger): Promise<void> {
  const cov = (
    market: Market,
    symbol: string,
    stream: string,
    hour: number,
    messages: number,
    s: number,
    e: number,
  ) =>
    ledger.addCoverage(market, symbol, stream, D + hour * HOUR_US, {
      messages,
      spanStartUs: D + s,
      spanEndUs: D + e,
    });
  await cov("spot", "BTCUSDT", "aggTrade", 0, 100, 0, 30 * M);
  await cov("spot", "BTCUSDT", "aggTrade", 0, 50, 30 * M, HOUR_US);
  await cov("spot", "BTCUSDT", "aggTrade", 5, 1000, 5 * HOUR_US, 6 * HOUR_US);
  await cov("spot", "BTCUSDT", "depth@100ms", 1, 2000, HOUR_US, 2 * HOUR_US);
  await cov("spot", "BTCUSDT", "depth@100ms", 2, 2000, 2 * HOUR_US, 3 * HOUR_US);
  await cov("usdm", "ETHUSDT", "markPrice@1s", 0, 1200, 0, 20 * M);
  await cov("spot", "BTCUSDT", "bookTicker", 7, 300, 7 * HOUR_US, 7 * HOUR_US + 10 * M);

  const gap = (market: Market, symbol: string, stream: string, kind: string, s: number, e: number) =>
    ledger.addGap(market, gapRow(symbol, stream, kind, D + s, D + e));
  await gap("spot", "BTCUSDT", "aggTrade", "disconnect", 10 * M, 12 * M);
  await gap("spot", "BTCUSDT", "aggTrade", "stale", 11 * M, 15 * M);
  await gap("spot", "BTCUSDT", "depth@100ms", "sequence", HOUR_US + 50 * M, 2 * HOUR_US + 10 * M);
  await gap("spot", "BTCUSDT", "aggTrade", "disconnect", 3 * HOUR_US, 4 * HOUR_US);
  await gap("spot", "BTCUSDT", "aggTrade", "disconnect", 5 * HOUR_US, 5 * HOUR_US + 10 * M);
  await gap("spot", "BTCUSDT", "aggTrade", "backfilled", 5 * HOUR_US, 5 * HOUR_US + 6 * M);
  await gap("spot", "BTCUSDT", "aggTrade", "stale", 5 * HOUR_US + 20 * M, 5 * HOUR_US + 21 * M);
  await ledger.markRecovered(
    {
      market: "spot",
      symbol: "BTCUSDT",
      stream: "aggTrade",
      startUs: D + 5 * HOUR_US + 20 * M,
      kind: "stale",
    },
    D + 6 * HOUR_US,
    "no trades were missed",
  );
  await gap("usdm", "ETHUSDT", "markPrice@1s", "stale", -5 * M, 5 * M);
  // The next day: not part of the report.
  await gap("spot", "BTCUSDT", "aggTrade", "disconnect", DAY_US + HOUR_US, DAY_US + HOUR_US + M);

  await ledger.addFiles([
    fileEntry("spot", "trades", "BTCUSDT", D + 1, 0, 100, 2000),
    fileEntry("spot", "trades", "BTCUSDT", D + 30 * M, 1, 50, 1500),
    fileEntry("spot", "trades", "BTCUSDT", D + 5 * HOUR_US, 2, 1000, 30000),
    fileEntry("usdm", "mark_prices", "ETHUSDT", D + 5, 3, 1200, 25000),
    fileEntry("spot", "trades", "BTCUSDT", D + DAY_US + HOUR_US, 4, 7, 700),
  ]);

  await ledger.addFlush({
    atUs: D + HOUR_US,
    files: 2,
    rows: 150,
    bytes: 3500,
    ms: 12.5,
    reason: "interval",
  });
  await ledger.addFlush({
    atUs: D + 2 * HOUR_US,
    files: 1,
    rows: 1000,
    bytes: 30000,
    ms: 40,
    reason: "hour",
  });
  await ledger.addFlush({
    atUs: D + 6 * HOUR_US,
    files: 1,
    rows: 1200,
    bytes: 25000,
    ms: 20,
    reason: "shutdown",
  });
  await ledger.addFlush({ atUs: D + DAY_US, files: 1, rows: 7, bytes: 700, ms: 5, reason: "interval" });

  await ledger.addClockSample({ atUs: D + 10 * M, source: "ntp", offsetMs: 1.5, rttMs: 10 });
  await ledger.addClockSample({ atUs: D + 20 * M, source: "ntp", offsetMs: -2, rttMs: 12 });
  await ledger.addClockSample({ atUs: D + 30 * M, source: "ntp", offsetMs: 3.25, rttMs: 8 });
  await ledger.addClockSample({ atUs: D + 10 * M, source: "binance-spot", offsetMs: -120, rttMs: 50 });
  await ledger.addClockSample({ atUs: D + 40 * M, source: "binance-spot", offsetMs: 20, rttMs: 30 });
  await ledger.addClockSample({ atUs: D - 1, source: "ntp", offsetMs: 999, rttMs: 1 });
}
