/**
 * The whole collector (sockets, REST, journal, books, Parquet) against the simulator, per fault switch: what it
 * wrote, read back from Parquet, equals the simulator's ground truth, and every dropped diff is inside a gap.
 */
import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import type { MarketStatus } from "../../lib/pipeline/collector.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import type { Faults } from "../../lib/sim/faults.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import {
  checkBooks,
  checkDroppedDiffsInGaps,
  checkKlines,
  checkKlinesComplete,
  checkTrades,
  readWritten,
} from "./_checks.ts";
import { type RunOptions, type Sim, sleep, startCollector, waitFor } from "./_harness.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const TOP = 10;

interface Scenario {
  /** Seconds of recording after the books first synced. */
  seconds: number;
  faults?: Partial<Faults>;
  /** Applied once the books are synced. */
  during?: (sim: Sim) => void;
  /**
   * Waited for once the recording time is over, then 3 s more are recorded: for a recovery whose timing is
   * random (reconnect backoff has jitter).
   */
  settled?: (status: MarketStatus[]) => boolean;
  /** Called when the recording time is over, before the collector stops. */
  after?: (sim: Sim) => void;
  /** Extra checks on what was written, while the simulator is still up. */
  check?: (sim: Sim, dataDir: string) => Promise<void>;
  run?: RunOptions;
  markets?: Market[];
}

/** Runs the collector on a fresh simulator and checks everything it wrote against the truth. */
async function runScenario(s: Scenario) {
  const dataDir = await Deno.makeTempDir({ prefix: "collector-it-" });
  const sim = await startSimulator({ symbols: SYMBOLS, seed: 7, tickMs: 10, truth: true, faults: s.faults });
  const markets = s.markets ?? ["spot", "usdm"];
  try {
    const app = await startCollector(sim, dataDir, { usdm: markets.includes("usdm"), ...s.run });
    const collector = app.collector;
    try {
      await waitFor(
        "books synced",
        () =>
          collector.status().every((m) => m.books.length > 0 && m.books.every((b) => b.state === "synced")),
      );
      s.during?.(sim);
      await sleep(s.seconds * 1000);
      if (s.settled) {
        await waitFor("the run to settle", () => s.settled!(collector.status()), 30_000);
        await sleep(3000);
      }
      s.after?.(sim);
    } finally {
      await app.stop();
    }
    const result: Record<
      string,
      { trades: number; books: number; klines: number; dropped: number; gaps: number; why: string[] }
    > = {};
    for (const market of markets) {
      const w = await readWritten(dataDir, market);
      for (const symbol of SYMBOLS) {
        result[`${market}:${symbol}`] = {
          trades: checkTrades(sim, market, symbol, w),
          books: checkBooks(sim, market, symbol, w, TOP),
          klines: checkKlines(sim, market, symbol, w),
          dropped: checkDroppedDiffsInGaps(sim, market, symbol, w),
          gaps: w.gaps.filter((g) => g.symbol === symbol).length,
          why: w.gaps.filter((g) => g.symbol === symbol).map((g) => `${g.stream} ${g.kind}: ${g.reason}`),
        };
      }
    }
    await s.check?.(sim, dataDir);
    return { result, dataDir };
  } finally {
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("collector vs simulator: no faults — every trade once, every book true, no gap", async () => {
  const startedUs = Date.now() * 1000;
  const { result } = await runScenario({
    seconds: 4,
    // The coverage the flushes recorded: every planned stream, its messages (one a trade for aggTrade).
    check: async (_sim, dataDir) => {
      const ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`);
      try {
        const days = [
          ...new Set(
            [startedUs, Date.now() * 1000].map((us) => new Date(us / 1000).toISOString().slice(0, 10)),
          ),
        ];
        const rows = (await Promise.all(days.map((d) => ledger.coverage(d)))).flat();
        for (const market of ["spot", "usdm"] as const) {
          const w = await readWritten(dataDir, market);
          const streams = market === "spot" ? 4 : 6;
          for (const symbol of SYMBOLS) {
            const mine = rows.filter((r) => r.market === market && r.symbol === symbol);
            assert.equal(
              new Set(mine.map((r) => r.stream)).size,
              streams,
              `${market} ${symbol}: ${JSON.stringify(mine)}`,
            );
            assert.ok(mine.every((r) => r.recordedSeconds > 0), `${market} ${symbol}: every stream recorded`);
            const trades = mine.filter((r) => r.stream === "aggTrade").reduce((n, r) => n + r.messages, 0);
            assert.equal(
              trades,
              w.trades.filter((t) => t.symbol === symbol).length,
              `${market} ${symbol} trades`,
            );
          }
        }
      } finally {
        ledger.close();
      }
    },
  });
  for (const [key, r] of Object.entries(result)) {
    assert.equal(r.gaps, 0, `${key}: no gap without a fault`);
    assert.ok(r.trades > 10 && r.books > 20, `${key}: data flowed (${JSON.stringify(r)})`);
  }
});

Deno.test("collector vs simulator: dropped diffs are sequence gaps, books resync to the truth", async () => {
  const { result } = await runScenario({
    seconds: 4,
    during: (sim) => {
      sim.faults.dropDiffs = { symbol: "BTCUSDT", count: 4 };
    },
  });
  for (const market of ["spot", "usdm"]) {
    assert.ok(result[`${market}:BTCUSDT`]!.dropped >= 1, `${market}: diffs were dropped after sync`);
    assert.ok(result[`${market}:BTCUSDT`]!.gaps >= 1, `${market}: the drop left a gap row`);
    assert.equal(result[`${market}:ETHUSDT`]!.gaps, 0, `${market}: the other symbol never waited or gapped`);
  }
});

Deno.test("collector vs simulator: duplicated diffs and garbage frames change nothing", async () => {
  const { result } = await runScenario({
    seconds: 3,
    during: (sim) => {
      sim.faults.duplicateDiffs = { probability: 0.3 };
      sim.faults.garbage = { probability: 0.05 };
      sim.faults.unknownFields = true;
    },
  });
  for (const [key, r] of Object.entries(result)) {
    assert.equal(r.gaps, 0, `${key}: no gap: ${r.why.join(" | ")}`);
  }
});

Deno.test("collector vs simulator: reordered diffs never corrupt a book", async () => {
  const { result } = await runScenario({
    seconds: 4,
    during: (sim) => {
      sim.faults.delayDiffs = { symbol: "ETHUSDT", probability: 0.1, delayMs: 300 };
    },
  });
  assert.ok(
    result["spot:ETHUSDT"]!.gaps + result["usdm:ETHUSDT"]!.gaps >= 1,
    "a late diff breaks the sequence",
  );
  assert.equal(result["spot:BTCUSDT"]!.gaps, 0);
});

Deno.test("collector vs simulator: a disconnect is a gap on every stream; trades and klines are backfilled", async () => {
  let downAtUs = 0;
  const { result } = await runScenario({
    seconds: 6,
    // Reconnected (backoff jitter decides when; spot's first connection has id 1) and resynced, so candles after
    // the outage get recorded.
    settled: (status) =>
      downAtUs > 0 && status.find((m) => m.market === "spot")!.connections.every((c) => c.connId !== 1) &&
      status.every((m) => m.books.every((b) => b.state === "synced")),
    during: (sim) => {
      // After a few candles closed (the backfill resumes from the last one seen), and down long enough for
      // 1 s candles to close unseen.
      setTimeout(() => {
        downAtUs = Date.now() * 1000;
        sim.faults.disconnect = { market: "spot" };
        sim.faults.refuseConnectionsUntil = Date.now() + 2500;
      }, 3000);
    },
    check: async (sim, dataDir) => {
      const w = await readWritten(dataDir, "spot");
      for (const symbol of SYMBOLS) {
        checkKlinesComplete(sim, "spot", symbol, "1s", w);
        const opens = w.klines.filter((k) => k.symbol === symbol).map((k) => k.open_time);
        assert.ok(
          Math.min(...opens) < downAtUs - 1e6 && Math.max(...opens) > downAtUs + 3e6,
          `spot ${symbol}: the written candles span the outage, so completeness covers it`,
        );
      }
    },
  });
  for (const symbol of SYMBOLS) {
    const r = result[`spot:${symbol}`]!;
    assert.ok(r.gaps >= 3, `spot ${symbol}: depth, trades, tickers... gapped`);
    assert.ok(
      r.why.some((w) => w.startsWith("aggTrade backfilled") && /recovered \d+ trades from REST/.test(w)),
      `spot ${symbol}: the trades missed while disconnected came back from REST: ${r.why.join(" | ")}`,
    );
    assert.equal(result[`usdm:${symbol}`]!.gaps, 0, `usdm ${symbol}: its connections were not touched`);
  }
});

Deno.test("collector vs simulator: REST 5xx, 429, timeouts and stale snapshots only delay the sync", async () => {
  const { result } = await runScenario({
    seconds: 2,
    faults: {
      rest: { hangProbability: 0.2, errorProbability: 0.3, rateLimitProbability: 0.2 },
      staleSnapshots: { probability: 0.5 },
    },
    run: { restTimeoutMs: 1000 },
  });
  for (const [key, r] of Object.entries(result)) {
    assert.equal(r.gaps, 0, `${key}: no gap: ${r.why.join(" | ")}`);
  }
});

Deno.test("collector vs simulator: bursts are absorbed without a gap", async () => {
  const { result } = await runScenario({
    seconds: 3,
    during: (sim) => {
      sim.faults.burst = { everyMs: 500, updates: 3000, trades: 200 };
    },
  });
  for (const [key, r] of Object.entries(result)) {
    assert.equal(r.gaps, 0, `${key}: no gap: ${r.why.join(" | ")}`);
  }
});

Deno.test("collector vs simulator: connections replaced before their lifetime leave no gap", async () => {
  let opened = 0;
  const { result } = await runScenario({
    seconds: 11,
    // Replacements open 3 s into a connection's life and have 5 s to get in sync before the server cuts it.
    faults: { lifetimeMs: 8000 },
    run: { extraYaml: "connection_lifetime: 3", rotateLeadMs: 5000 },
    during: (sim) => {
      opened = sim.stats.connectionsOpened;
    },
    after: (sim) => {
      opened = sim.stats.connectionsOpened - opened;
    },
  });
  assert.ok(opened >= 6, `every connection was replaced at least twice (${opened} new connections)`);
  for (const [key, r] of Object.entries(result)) {
    assert.deepEqual(r.why, [], `${key}: no gap at the rotations`);
  }
});

Deno.test("collector vs simulator: a spot serverShutdown is handed over to a replacement without a gap", async () => {
  const { result } = await runScenario({
    seconds: 4,
    during: (sim) => {
      sim.faults.serverShutdown = { closeAfterMs: 2500 };
    },
  });
  for (const [key, r] of Object.entries(result)) {
    assert.equal(r.gaps, 0, `${key}: no gap: ${r.why.join(" | ")}`);
  }
});
