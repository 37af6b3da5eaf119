/**
 * kill -9 the collector (a real `deno run main.ts` process) at random moments against the simulator, several
 * times, then run it once more and stop it cleanly. Afterwards: every Parquet file passes `verify`, the trade
 * tape is complete by agg id with the exchange's values, no row is written twice, every book is true, and each
 * downtime is a gap in the ledger.
 */
import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { verifyDataDir } from "../../lib/report/verify.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { checkBooks, checkTrades, readWritten } from "./_checks.ts";
import { startMain } from "../_main_process.ts";
import { sleep } from "./_harness.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

Deno.test("kill -9 at random moments: recovery loses nothing, duplicates nothing, and records the downtime", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "collector-crash-" });
  const sim = await startSimulator({ symbols: SYMBOLS, seed: 11, tickMs: 10, truth: true });
  const configPath = `${dataDir}.yaml`;
  await Deno.writeTextFile(
    configPath,
    `symbols: [${SYMBOLS.join(", ")}]
data_dir: ${dataDir}
flush_interval: 4
orderbook_top_levels: 10
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
    streams: [depth@100ms, aggTrade, bookTicker, markPrice@1s]
`,
  );
  const kills: number[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const main = startMain([configPath]);
      // Flushes run every 4 s, so a kill leaves up to 4 s of rows in the journal only, and may land in a flush.
      // The third kill comes within about a second of the start: while recovery replays, or just after.
      await sleep(i === 2 ? 300 + Math.random() * 900 : 5000 + Math.random() * 2500);
      assert.equal((await main.stop("SIGKILL")).signal, "SIGKILL");
      // Read once the process is gone: a clock read just before kill() (Date.now() is whole milliseconds) could
      // precede a frame the process still journaled.
      kills.push(Date.now() * 1000);
    }
    const last = startMain([configPath]);
    await sleep(5000);
    assert.equal((await last.stop("SIGTERM")).code, 0, `clean stop exits 0: ${last.tail(2000)}`);
    assert.match(last.log, /recovered from the journal .*crashed=true/);
    // Spill files the kills left went at the next start; the clean stop's went with the files they made.
    assert.deepEqual([...Deno.readDirSync(`${dataDir}/_spill`)].map((e) => e.name), []);

    const verified = await verifyDataDir(dataDir);
    assert.deepEqual(
      verified.problems,
      [],
      "every file matches the manifest, is readable and in its partition",
    );
    assert.ok(verified.checked > 10);

    for (const market of ["spot", "usdm"] as Market[]) {
      const w = await readWritten(dataDir, market);
      for (const symbol of SYMBOLS) {
        checkTrades(sim, market, symbol, w);
        const ids = w.trades.filter((t) => t.symbol === symbol).map((t) => t.agg_trade_id).sort((a, b) =>
          a - b
        );
        assert.equal(
          ids.at(-1)! - ids[0]! + 1,
          ids.length,
          `${market} ${symbol}: the trade tape is complete`,
        );
        checkBooks(sim, market, symbol, w, 10);
        // Trades made well before a kill arrived on the socket and were fsynced (twice a second) before it:
        // recovery must have written them from the journal, not left them to the REST backfill.
        for (const [k, killUs] of kills.entries()) {
          if (k === 2) continue; // the early kill's run may never have connected: no trades before it
          const before = w.trades.filter((t) =>
            t.symbol === symbol && t.trade_time > killUs - 3_000_000 && t.trade_time < killUs - 1_000_000
          );
          assert.ok(before.length > 0, `${market} ${symbol}: trades in the seconds before the kill`);
          const fromRest = before.filter((t) => t.source !== "ws").map((t) => t.agg_trade_id);
          assert.deepEqual(fromRest, [], `${market} ${symbol}: journaled trades recovered from the journal`);
        }
        const diffRows = w.depth.filter((r) => r.symbol === symbol && !r.is_snapshot)
          .map((r) => `${r.final_update_id}/${r.side}/${r.price}`);
        assert.equal(new Set(diffRows).size, diffRows.length, `${market} ${symbol}: no depth row twice`);
        const tickers = w.tickers.filter((r) => r.symbol === symbol).map((r) => r.update_id);
        assert.equal(new Set(tickers).size, tickers.length, `${market} ${symbol}: no book ticker twice`);
      }
    }

    const ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`);
    try {
      const gaps = (await ledger.listGaps({ fromUs: 0, toUs: Number.MAX_SAFE_INTEGER }))
        .map((g) => ({ market: g.market, ...g.row }));
      for (const killUs of kills) {
        for (const market of ["spot", "usdm"] as Market[]) {
          for (const stream of ["depth@100ms", "aggTrade", "bookTicker"]) {
            const rows = gaps.filter((g) =>
              g.market === market && g.symbol === "BTCUSDT" && g.stream === stream &&
              g.start_time <= killUs &&
              g.end_time >= killUs
            );
            // A hole whose backfill was still pending at a flush has its gap row, then a `backfilled` row of the
            // same bounds (README "A gap row and a `backfilled` row for the same interval"): one gap.
            const covering = [...Map.groupBy(rows, (g) => `${g.start_time}..${g.end_time}`).values()].map((
              same,
            ) => same.find((g) => g.kind === "backfilled") ?? same[0]!);
            const mine = gaps.filter((g) =>
              g.market === market && g.symbol === "BTCUSDT" && g.stream === stream
            )
              .map((g) => `${g.kind} ${g.start_time}..${g.end_time}`);
            assert.equal(
              covering.length,
              1,
              `${market} ${stream}: the downtime at ${killUs} is one gap; kills ${kills}; gaps ${
                mine.join(", ")
              }`,
            );
            if (stream === "aggTrade") assert.equal(covering[0]!.kind, "backfilled");
          }
        }
      }
    } finally {
      ledger.close();
    }
  } finally {
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath);
  }
});
