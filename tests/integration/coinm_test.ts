/**
 * COIN-M through the real entry point: `main.ts` with `markets.coinm` records a perpetual and a quarterly
 * contract from the simulator's `/dapi` and `dstream` stand-ins. Trades, books, book tickers and candles equal
 * the exchange's (whole contracts), the perpetual's funding reaches `funding_rates`, `instruments` describes
 * both contracts, and the quarterly's delivery mid-run retires it: its streams end without a gap row and its
 * last description says DELIVERING. The log says when both books first synced.
 */
import assert from "node:assert/strict";
import { deliverySymbol, quarterlyAfter } from "../../lib/sim/coinm_contracts.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { checkBooks, checkKlines, checkTrades, readWritten } from "./_checks.ts";
import { startMain } from "../_main_process.ts";
import { processConfigHead, readRows, type Sim } from "./_harness.ts";

const PERP = "BTCUSD_PERP";
const QUARTER = deliverySymbol("BTCUSD", quarterlyAfter(Date.now()));
const TOP = 10;

function configYaml(sim: Sim, dataDir: string): string {
  return `${processConfigHead(dataDir)}orderbook_depth: 1000
orderbook_top_levels: ${TOP}
markets:
  spot:
    enabled: false
  usdm:
    enabled: false
  coinm:
    enabled: true
    symbols: [${PERP}, ${QUARTER}]
    rest_url: ${sim.coinm.restUrl}
    ws_url: ${sim.coinm.wsUrl}
    streams: [depth@100ms, aggTrade, kline_1m, bookTicker, markPrice@1s]
`;
}

Deno.test("COIN-M (main.ts process): contracts recorded exactly, funding and instruments written, a delivery is no gap", async () => {
  const sim = await startSimulator({
    symbols: [PERP, QUARTER],
    seed: 31,
    tickMs: 10,
    rate: 200,
    truth: true,
  });
  const dataDir = await Deno.makeTempDir({ prefix: "coinm-main-" });
  const configPath = `${dataDir}.yaml`;
  await Deno.writeTextFile(configPath, configYaml(sim, dataDir));
  const main = startMain([configPath]);
  try {
    // A few flushes: both books have synced and recorded for a while (the sim syncs them within a second).
    await main.waitForLog(/flushed reason="interval"/, 30_000, 3);
    // The start-up sync is reported once, with the snapshots it took (one per book unless one was too old).
    const synced = /books synced market="coinm" books=(\d+) snapshots=(\d+) firstRequestMs=\d+ seconds=[\d.]+/
      .exec(main.log);
    assert.ok(synced, `a "books synced" line: ${main.tail()}`);
    assert.equal(Number(synced[1]), 2);
    assert.ok(Number(synced[2]) >= 2);
    // The log's health line (at start-up, then once a minute): this market's symbols, memory, books in sync.
    assert.match(main.log, /INFO {2}health frames=\d+ [^\n]*rssMb=\d+ [^\n]*symbols=2 booksSynced=\d\n/);
    // The quarterly delivers: its streams stop, the collector learns why and retires it.
    const deliverAt = Date.now() - sim.startedAt + 500;
    sim.faults.listingChanges.push({
      action: "deliver",
      market: "coinm",
      symbol: QUARTER,
      afterMs: deliverAt,
    });
    await main.waitForLog(/configured symbols not trading[^\n]*market="coinm"/, 30_000);
    // Longer than every stale threshold after the delivery: a false gap would have opened by now.
    await new Promise((r) => setTimeout(r, 12_000));
    assert.equal((await main.stop("SIGTERM")).code, 0, main.tail());
    // Each flush logs the event loop's worst lag while it ran, the stop line all flushes' (p99 and max).
    assert.match(main.log, /flushed reason="interval" [^\n]*lagMaxMs=\d+(\.\d)?\n/);
    assert.match(main.log, /collector stopped [^\n]*flushLagP99Ms=[\d.]+ flushLagMaxMs=[\d.]+ /);

    const w = await readWritten(dataDir, "coinm");
    for (const symbol of [PERP, QUARTER]) {
      assert.ok(checkTrades(sim, "coinm", symbol, w) > 10, `${symbol} trades`);
      assert.ok(checkBooks(sim, "coinm", symbol, w, TOP) > 10, `${symbol} books`);
      checkKlines(sim, "coinm", symbol, w); // COIN-M has no 1 s candles: a 1 m one closes only sometimes
    }
    // Whole contracts, never fractions of a coin.
    assert.ok(w.trades.every((t) => Number.isInteger(t.quantity)), "trade quantities are contracts");
    assert.ok(w.depth.every((d) => Number.isInteger(d.quantity)), "depth quantities are contracts");
    const gaps = w.gaps.filter((g) =>
      g.kind !== "backfilled" && !/clean shutdown|still open at shutdown/.test(g.reason)
    );
    assert.deepEqual(gaps, [], `no gap row, the delivery included: ${JSON.stringify(gaps)}`);
    const deliveredAt = sim.truth.listings("coinm", QUARTER).find((l) => l.action === "deliver")!.time;
    const late = w.trades.filter((t) => t.symbol === QUARTER && t.trade_time > deliveredAt * 1000);
    assert.deepEqual(late, [], "no trade of the quarterly after its delivery");

    const instruments = await readRows(dataDir, "coinm", "instruments");
    const perp = instruments.filter((i) => i.symbol === PERP);
    assert.equal(perp.length, 1, "described once: nothing about the perpetual changed");
    assert.deepEqual(
      [
        perp[0]!.status,
        perp[0]!.contract_type,
        perp[0]!.contract_size,
        perp[0]!.delivery_time,
        perp[0]!.pair,
      ],
      ["TRADING", "PERPETUAL", 100, null, "BTCUSD"],
    );
    const quarter = instruments.filter((i) => i.symbol === QUARTER).map((i) => i.status);
    assert.deepEqual(quarter, ["TRADING", "DELIVERING"]);

    const funding = await readRows(dataDir, "coinm", "funding_rates");
    assert.ok(funding.length > 0 && funding.every((f) => f.symbol === PERP), "the perpetual's funding, only");
    assert.ok(funding.every((f) => f.mark_price === null), "COIN-M funding history has no mark price");
    const marks = await readRows(dataDir, "coinm", "mark_prices");
    const quarterMarks = marks.filter((m) => m.symbol === QUARTER);
    assert.ok(quarterMarks.length > 0 && quarterMarks.every((m) => m.funding_rate === null));
  } finally {
    await main.kill();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath).catch(() => {});
  }
});
