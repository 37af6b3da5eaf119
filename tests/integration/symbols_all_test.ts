/**
 * `symbols: all` against the simulator's generated market: the collector records every TRADING symbol that
 * passes the filter, a new listing joins while it runs (subscribed, book synced, rows written), a delisted
 * symbol leaves without a false gap row, each change is alerted and logged, and a restart keeps the symbols
 * (from the checkpoint) even while exchangeInfo is down.
 */
import assert from "node:assert/strict";
import { type App, startApp } from "../../lib/app.ts";
import type { CollectorAlert } from "../../lib/pipeline/collector.ts";
import { parseConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/log.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { readRows, type Sim, sleep, waitFor } from "./_harness.ts";

function config(sim: Sim, dataDir: string) {
  return parseConfig(
    `symbols: all
symbol_filter:
  quote_assets: [USDT]
  exclude: [ZZZUSDT]
  refresh_interval: 10
data_dir: ${JSON.stringify(dataDir)}
flush_interval: 1
orderbook_depth: 100
use_futures: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
    streams: [depth@100ms, aggTrade, kline_1s]
`,
    "all.yaml",
  );
}

/** The TRADING USDT symbols the simulator lists now. */
async function tradingUsdt(sim: Sim): Promise<string[]> {
  const info = await (await fetch(`${sim.spot.restUrl}/api/v3/exchangeInfo`)).json() as {
    symbols: { symbol: string; status: string; quoteAsset: string }[];
  };
  return info.symbols.filter((s) => s.status === "TRADING" && s.quoteAsset === "USDT").map((s) => s.symbol)
    .sort();
}

Deno.test("symbols: all records every trading symbol that passes the filter, follows listings and delistings, and keeps them over a restart", async () => {
  const sim = await startSimulator({ symbols: "all", universe: { spot: 60, usdm: 4 }, seed: 21, tickMs: 10 });
  const dataDir = await Deno.makeTempDir({ prefix: "symbols-all-" });
  const alerts: CollectorAlert[] = [];
  let app: App | null = null;
  try {
    const expected = await tradingUsdt(sim);
    assert.ok(expected.length >= 5, `the market has USDT symbols: ${expected.length}`);
    app = await startApp(config(sim, dataDir), silentLogger, { onAlert: (a) => alerts.push(a) });
    const collector = app.collector;
    await waitFor(
      "every symbol recorded",
      () => collector.symbolsOf("spot").length === expected.length,
      20_000,
    );
    assert.deepEqual([...collector.symbolsOf("spot")].sort(), expected);
    await waitFor(
      "every book synced",
      () =>
        collector.status()[0]!.books.length === expected.length &&
        collector.status()[0]!.books.every((b) => b.state === "synced"),
      30_000,
    );

    // A listing joins and a symbol is delisted while the collector runs.
    const gone = expected[0]!;
    sim.faults.listingChanges.push(
      { action: "list", market: "spot", symbol: "NEWUSDT", rate: 200 },
      { action: "delist", market: "spot", symbol: gone },
    );
    await waitFor("the listing joined", () => collector.symbolsOf("spot").includes("NEWUSDT"), 20_000);
    assert.ok(!collector.symbolsOf("spot").includes(gone), "the delisted symbol left");
    await waitFor(
      "the new book synced",
      () => collector.status()[0]!.books.some((b) => b.symbol === "NEWUSDT" && b.state === "synced"),
      20_000,
    );
    // The first reading adds every symbol; the change after it is the listing and the delisting.
    const universe = alerts.filter((a) => a.kind === "universe");
    assert.deepEqual(universe.map((a) => a.kind === "universe" && [a.added, a.removed]), [
      [expected, []],
      [["NEWUSDT"], [gone]],
    ]);
    // Quiet for longer than its streams' stale thresholds: still no gap for the delisted symbol.
    await sleep(12_000);
    await app.stop();
    app = null;
    const trades = await readRows(dataDir, "spot", "trades");
    assert.ok(trades.some((t) => t.symbol === "NEWUSDT"), "the listing's trades were recorded");
    const gaps = await readRows(dataDir, "spot", "gaps");
    const after = gaps.filter((g) => g.symbol === gone && g.kind !== "backfilled");
    assert.deepEqual(after, [], `no gap row for the delisted symbol: ${JSON.stringify(after)}`);
    const log = (await Deno.readTextFile(`${dataDir}/_meta/universe.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(log.at(-1).added, ["NEWUSDT"]);
    assert.deepEqual(log.at(-1).removed, [gone]);

    // Restart while exchangeInfo fails: the symbols come back from the checkpoint and are recorded at once.
    const symbolsBefore = await tradingUsdt(sim);
    sim.faults.rest = { market: "spot", errorProbability: 1 };
    app = await startApp(config(sim, dataDir), silentLogger);
    const again = app.collector;
    assert.deepEqual([...again.symbolsOf("spot")].sort(), symbolsBefore, "the symbols of the last run");
    await waitFor(
      "subscribed",
      () => again.status()[0]!.connections.every((c) => c.state === "subscribed"),
      20_000,
    );
    sim.faults.rest = null;
  } finally {
    await app?.stop();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
