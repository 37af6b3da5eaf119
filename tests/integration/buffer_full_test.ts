/**
 * The forced flush at `max_buffer_mb`: with a one-hour `flush_interval` and a 1 MiB buffer limit, a busy
 * simulator fills the buffers within seconds, so every flush before the stop is a "buffer full" one. What was
 * written, read back from Parquet, must still hold every row exactly once: trades, book snapshots, klines, every
 * applied depth diff level and every book ticker, with nothing missing outside a gap row.
 *
 * Run in-process (lib/app.ts, as the other integration tests) and as `main.ts` in its own process stopped
 * with SIGTERM.
 */
import assert from "node:assert/strict";
import { startApp } from "../../lib/app.ts";
import type { Market } from "../../lib/binance/markets.ts";
import { parseConfig } from "../../lib/config.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import {
  checkBooks,
  checkKlines,
  checkKlinesComplete,
  checkTrades,
  readWritten,
  type Written,
} from "./_checks.ts";
import { startMain } from "../_main_process.ts";
import { type Sim, waitFor } from "./_harness.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const MARKETS: Market[] = ["spot", "usdm"];
const TOP = 10;
/** Forced flushes to see before stopping: the rows of all but the last are followed by more rows. */
const FORCED_FLUSHES = 3;
const FLUSHED_BUFFER_FULL = /flushed reason="buffer full" files=[1-9]\d* rows=[1-9]/g;

/** Book level changes per second per (market, symbol): about 1 MiB of buffered rows every second or two. */
const SIM_RATE = 1500;

function startBusySimulator(): Promise<Sim> {
  return startSimulator({ symbols: SYMBOLS, seed: 11, tickMs: 10, rate: SIM_RATE, truth: true });
}

/**
 * The collector's config: long flush interval, 1 MiB buffer limit, status page off. Only streams whose every row
 * the checks account for (USD-M's 1 m candles and mark prices would close too few rows in a few seconds).
 */
function configYaml(sim: Sim, dataDir: string): string {
  return `symbols: [${SYMBOLS.join(", ")}]
data_dir: ${JSON.stringify(dataDir)}
log_dir: ${JSON.stringify(`${dataDir}/logs`)}
flush_interval: 3600
max_buffer_mb: 1
orderbook_depth: 1000
orderbook_top_levels: ${TOP}
status:
  enabled: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
    streams: [depth@100ms, aggTrade, kline_1s, bookTicker]
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
    streams: [depth@100ms, aggTrade, bookTicker]
`;
}

/** A depth gap row of `symbol` that holds update id range `[first, final]`. */
function inDepthGap(w: Written, symbol: string, first: number, final: number): boolean {
  return w.gaps.some((g) =>
    g.symbol === symbol && g.stream.startsWith("depth") && g.last_update_id !== null &&
    g.resume_update_id !== null && g.last_update_id < first && final <= g.resume_update_id
  );
}

/**
 * Every diff the exchange sent after the first snapshot written, up to the last diff written, is written once
 * with exactly its levels and followed by one book snapshot, unless it lies inside a depth gap row. Returns the
 * number of diffs checked.
 */
function checkDepthDiffs(sim: Sim, market: Market, symbol: string, w: Written): number {
  const snapshots = w.depth.filter((r) => r.symbol === symbol && r.is_snapshot).map((r) => r.final_update_id);
  assert.ok(snapshots.length > 0, `${market} ${symbol}: the book was synced`);
  const firstSync = Math.min(...snapshots);
  const written = new Map<number, string[]>();
  for (const r of w.depth) {
    if (r.symbol !== symbol || r.is_snapshot) continue;
    let levels = written.get(r.final_update_id);
    if (!levels) written.set(r.final_update_id, levels = []);
    levels.push(`${r.first_update_id} ${r.side} ${r.price} ${r.quantity}`);
  }
  const lastWritten = Math.max(...written.keys());
  const books = new Map<number, number>();
  for (const r of w.books) {
    if (r.symbol === symbol) books.set(r.last_update_id, (books.get(r.last_update_id) ?? 0) + 1);
  }
  let checked = 0;
  for (const d of sim.truth.diffs(market, symbol)) {
    // A futures diff may end at its snapshot's id and still be applied (U <= lastUpdateId <= u); a spot one
    // is then stale.
    const applied = d.finalUpdateId > firstSync || (d.finalUpdateId === firstSync && written.has(firstSync));
    if (!applied || d.finalUpdateId > lastWritten) continue;
    const got = (written.get(d.finalUpdateId) ?? []).sort();
    written.delete(d.finalUpdateId);
    if (inDepthGap(w, symbol, d.firstUpdateId, d.finalUpdateId)) continue;
    const want = [
      ...d.bids.map(([p, q]) => `${d.firstUpdateId} bid ${p} ${q}`),
      ...d.asks.map(([p, q]) => `${d.firstUpdateId} ask ${p} ${q}`),
    ].sort();
    assert.deepEqual(
      got,
      want,
      `${market} ${symbol}: diff ${d.firstUpdateId}..${d.finalUpdateId} written once`,
    );
    // Each applied diff also writes the book's top levels (their values are checkBooks' business).
    assert.equal(
      books.get(d.finalUpdateId),
      1,
      `${market} ${symbol}: one book snapshot after ${d.finalUpdateId}`,
    );
    books.delete(d.finalUpdateId);
    checked++;
  }
  assert.deepEqual([...books.keys()], [], `${market} ${symbol}: book snapshots after no written diff`);
  assert.deepEqual([...written.keys()], [], `${market} ${symbol}: written diffs the exchange never sent`);
  return checked;
}

/**
 * Every book ticker written equals the exchange's, once, and every ticker the exchange sent between the first
 * and the last written one is written unless inside a bookTicker gap row. Returns the number checked.
 */
function checkTickers(sim: Sim, market: Market, symbol: string, w: Written): number {
  const rows = w.tickers.filter((r) => r.symbol === symbol).sort((a, b) => a.update_id - b.update_id);
  assert.ok(rows.length > 0, `${market} ${symbol}: book tickers were written`);
  for (let i = 1; i < rows.length; i++) {
    assert.notEqual(rows[i]!.update_id, rows[i - 1]!.update_id, `${market} ${symbol}: ticker written twice`);
  }
  const byId = new Map(rows.map((r) => [r.update_id, r]));
  const [first, last] = [rows[0]!.update_id, rows.at(-1)!.update_id];
  const gaps = w.gaps.filter((g) => g.symbol === symbol && g.stream === "bookTicker");
  let checked = 0;
  for (const t of sim.truth.bookTickers(market, symbol)) {
    if (t.updateId < first || t.updateId > last) continue;
    const r = byId.get(t.updateId);
    byId.delete(t.updateId);
    if (!r) {
      const covered = gaps.some((g) =>
        g.last_update_id !== null && g.resume_update_id !== null && g.last_update_id < t.updateId &&
        t.updateId < g.resume_update_id
      );
      assert.ok(covered, `${market} ${symbol}: ticker ${t.updateId} missing without a gap row`);
      continue;
    }
    assert.deepEqual(
      [r.bid_price, r.bid_quantity, r.ask_price, r.ask_quantity],
      [t.bidPrice, t.bidQuantity, t.askPrice, t.askQuantity],
      `${market} ${symbol}: ticker ${t.updateId}`,
    );
    checked++;
  }
  assert.deepEqual([...byId.keys()], [], `${market} ${symbol}: written tickers the exchange never sent`);
  return checked;
}

/** Runs every ground-truth check on what was written; returns row counts per (market, symbol) for messages. */
async function checkEveryRow(sim: Sim, dataDir: string): Promise<Record<string, Record<string, number>>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const market of MARKETS) {
    const w = await readWritten(dataDir, market);
    for (const symbol of SYMBOLS) {
      counts[`${market}:${symbol}`] = {
        trades: checkTrades(sim, market, symbol, w),
        books: checkBooks(sim, market, symbol, w, TOP),
        klines: checkKlines(sim, market, symbol, w),
        diffs: checkDepthDiffs(sim, market, symbol, w),
        tickers: checkTickers(sim, market, symbol, w),
        gaps: w.gaps.filter((g) => g.symbol === symbol).length,
      };
      if (market === "spot") checkKlinesComplete(sim, market, symbol, "1s", w);
    }
  }
  for (const [key, c] of Object.entries(counts)) {
    // Enough rows on each side of the forced flushes that a lost buffer would show.
    assert.ok(
      c.trades! > 20 && c.diffs! > 20 && c.tickers! > 50,
      `${key}: data flowed: ${JSON.stringify(c)}`,
    );
  }
  return counts;
}

Deno.test("buffer full (in-process): forced flushes before the stop lose and repeat no row", async () => {
  const sim = await startBusySimulator();
  const dataDir = await Deno.makeTempDir({ prefix: "buffer-full-" });
  const flushed: string[] = [];
  try {
    const config = parseConfig(configYaml(sim, dataDir), "buffer_full.yaml");
    assert.equal(config.maxBufferMb, 1);
    const app = await startApp(config, (_level, message, fields) => {
      if (message === "flushed") flushed.push(String(fields?.reason));
    });
    try {
      await waitFor(
        `${FORCED_FLUSHES} "buffer full" flushes`,
        () => flushed.filter((r) => r === "buffer full").length >= FORCED_FLUSHES,
        60_000,
      );
      const stats = await app.ledger.listFlushes(0, Number.MAX_SAFE_INTEGER);
      const forced = stats.filter((s) => s.reason === "buffer full");
      assert.ok(
        forced.length >= FORCED_FLUSHES,
        `the ledger records the forced flushes: ${JSON.stringify(stats)}`,
      );
      assert.ok(forced.every((s) => s.rows > 0 && s.files > 0), "each forced flush wrote rows");
    } finally {
      await app.stop();
    }
    assert.equal(flushed.at(-1), "shutdown");
    // The start's (empty) recovery flush and an hour boundary's may come too; the interval's never does.
    assert.deepEqual(
      flushed.filter((r) => !["recovery", "buffer full", "hour", "shutdown"].includes(r)),
      [],
      "no flush but the forced ones, the start's, an hour boundary's and the stop's",
    );
    await checkEveryRow(sim, dataDir);
  } finally {
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("buffer full (main.ts process): forced flushes, then SIGTERM, lose and repeat no row", async () => {
  const sim = await startBusySimulator();
  const dataDir = await Deno.makeTempDir({ prefix: "buffer-full-main-" });
  const configPath = `${dataDir}.yaml`;
  await Deno.writeTextFile(configPath, configYaml(sim, dataDir));
  const main = startMain([configPath]);
  try {
    await main.waitForLog(FLUSHED_BUFFER_FULL, 60_000, FORCED_FLUSHES);
    assert.equal((await main.stop("SIGTERM")).code, 0, main.tail());
    assert.match(main.log, /flushed reason="shutdown"/);
    assert.doesNotMatch(main.log, /flush failed/);
    const ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`);
    try {
      const forced = (await ledger.listFlushes(0, Number.MAX_SAFE_INTEGER)).filter((s) =>
        s.reason === "buffer full"
      );
      assert.ok(forced.length >= FORCED_FLUSHES, `the ledger records ${forced.length} forced flushes`);
    } finally {
      ledger.close();
    }
    await checkEveryRow(sim, dataDir);
  } finally {
    await main.kill();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath);
  }
});
