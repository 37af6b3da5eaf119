/**
 * A disk that refuses writes fails flushes, not data.
 *
 * Parquet: a plain file sits where the spot trades partition directory must be created, so every write of that
 * table fails with a real I/O error from the file system (as on a full or read-only disk) while the other tables
 * still write. The rows stay buffered, the checkpoint is not committed, and once writes work again every trade is
 * written exactly once, with an alert for the failures.
 *
 * Journal: its segment files fail every write and fsync for a while. Collection goes on in memory, flushes wait
 * (a checkpoint needs the journal), the journal is reopened once the disk works, and nothing is lost.
 */
import assert from "node:assert/strict";
import { type App, type AppOverrides, startApp } from "../../lib/app.ts";
import { silentLogger } from "../../lib/log.ts";
import type { CollectorAlert } from "../../lib/pipeline/collector.ts";
import { verifyDataDir } from "../../lib/report/verify.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { flakyDisk } from "../flaky_disk.ts";
import { checkBooks, checkTrades, readWritten, type Written } from "./_checks.ts";
import { type Sim, simConfig, sleep, waitFor } from "./_harness.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

/**
 * Every spot trade once and true, books true, no gap, and a tape without a hole from before `beforeUs` (when
 * writes started failing) to after `afterUs` (when they worked again).
 */
function checkComplete(sim: Sim, w: Written, beforeUs: number, afterUs: number) {
  for (const symbol of SYMBOLS) {
    checkTrades(sim, "spot", symbol, w);
    checkBooks(sim, "spot", symbol, w, 10);
    const ids = w.trades.filter((t) => t.symbol === symbol).map((t) => t.agg_trade_id).sort((a, b) => a - b);
    assert.equal(ids.at(-1)! - ids[0]! + 1, ids.length, `spot ${symbol}: the trade tape has no hole`);
    const firstUs = Math.min(...w.trades.filter((t) => t.symbol === symbol).map((t) => t.local_time));
    const lastUs = Math.max(...w.trades.filter((t) => t.symbol === symbol).map((t) => t.local_time));
    assert.ok(firstUs < beforeUs && lastUs > afterUs, `spot ${symbol}: the tape spans the failures`);
    assert.equal(w.gaps.filter((g) => g.symbol === symbol).length, 0, `spot ${symbol}: no gap`);
  }
}

/**
 * Runs the collector (spot only) on a fresh simulator; `whileSynced` makes writes fail and work again and
 * returns when they failed and when they worked. Then every trade and book is checked, and every file verified.
 */
async function runThroughFailures(
  seed: number,
  overrides: AppOverrides,
  whileSynced: (app: App, dataDir: string) => Promise<{ failingUs: number; writableUs: number }>,
  beforeStart?: (dataDir: string) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "collector-disk-" });
  const sim = await startSimulator({ symbols: SYMBOLS, seed, tickMs: 10, truth: true });
  try {
    await beforeStart?.(dataDir);
    const app = await startApp(simConfig(sim, dataDir, { usdm: false }), silentLogger, overrides);
    let times: { failingUs: number; writableUs: number };
    try {
      // Trades flowing too: a book syncs as soon as its snapshot comes, which may be before a symbol's first trade.
      await waitFor(
        "books synced and trades flowing",
        () => {
          const trades = app.collector.streams().filter((s) => s.stream === "aggTrade");
          return app.collector.status().every((m) => m.books.every((b) => b.state === "synced")) &&
            trades.length === SYMBOLS.length && trades.every((s) => s.messages > 0);
        },
      );
      times = await whileSynced(app, dataDir);
      await sleep(1000);
    } finally {
      await app.stop();
    }
    checkComplete(sim, await readWritten(dataDir, "spot"), times.failingUs, times.writableUs);
    const verified = await verifyDataDir(dataDir);
    assert.deepEqual(verified.problems, [], "every file matches the manifest");
  } finally {
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("collector vs simulator: flushes that fail while the disk refuses writes lose no row", async () => {
  const alerts: CollectorAlert[] = [];
  const blocker = (dataDir: string) => `${dataDir}/spot/trades`;
  const block = async (dataDir: string) => {
    await Deno.mkdir(`${dataDir}/spot`, { recursive: true });
    await Deno.writeTextFile(blocker(dataDir), "a file where a directory must go");
  };
  await runThroughFailures(13, { onAlert: (a) => alerts.push(a) }, async (app, dataDir) => {
    // Every flush of trades has failed since the start; they are still held at the books' sync.
    const failingUs = Date.now() * 1000;
    await waitFor("three failed flushes", () => app.collector.flushFailures >= 3);
    const checkpoint = await app.ledger.getCheckpoint();
    await Deno.remove(blocker(dataDir));
    const writableUs = Date.now() * 1000;
    const flushed = app.collector.flushCount;
    await waitFor("a flush after the disk works again", () => app.collector.flushCount > flushed);
    const after = await app.ledger.getCheckpoint();
    assert.ok(
      after!.segment > checkpoint!.segment ||
        (after!.segment === checkpoint!.segment && after!.offset > checkpoint!.offset),
      "the checkpoint moves on only once the failed rows are written",
    );
    return { failingUs, writableUs };
  }, block);
  assert.ok(
    alerts.some((a) => a.kind === "flush_failed" && /Not a directory|os error 20/.test(a.error)),
    `a flush_failed alert names the I/O error: ${
      JSON.stringify(alerts.filter((a) => a.kind === "flush_failed").slice(0, 1))
    }`,
  );
});

Deno.test("collector vs simulator: a journal whose disk fails for a while is reopened; no row is lost", async () => {
  const { disk, openSegment } = flakyDisk();
  const alerts: CollectorAlert[] = [];
  await runThroughFailures(17, { onAlert: (a) => alerts.push(a), journal: { openSegment } }, async (app) => {
    const segment = app.collector.journal.segment;
    disk.full = true;
    const failingUs = Date.now() * 1000;
    await waitFor("the journal failure reported", () => alerts.some((a) => a.kind === "journal_failed"));
    const flushes = app.collector.flushCount;
    await sleep(2500); // flush_interval is 1 s: flushes wait for the journal
    assert.equal(app.collector.flushCount, flushes, "no checkpoint without the journal");
    assert.ok(app.collector.journalErrors > 0, "records not journaled are counted");
    disk.full = false;
    const writableUs = Date.now() * 1000;
    await waitFor("a flush after the journal reopened", () => app.collector.flushCount > flushes);
    assert.ok(app.collector.journal.segment > segment, "a new segment");
    return { failingUs, writableUs };
  });
  assert.equal(alerts.filter((a) => a.kind === "journal_failed").length, 1, "one alert per outage");
});
