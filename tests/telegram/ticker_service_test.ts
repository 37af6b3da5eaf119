/**
 * The ticker service over a collector-shaped object and a real in-memory ledger: what one tick reads and posts,
 * the change since the previous tick, and the flush report after a new flush only.
 */
import assert from "node:assert/strict";
import { Ledger } from "../../lib/ledger/ledger.ts";
import type { Logger } from "../../lib/log.ts";
import type { FlushResult } from "../../lib/pipeline/table_store.ts";
import { type TickerCollector, TickerService } from "../../lib/telegram/ticker_service.ts";
import { D, fileEntry, gapRow, M, S } from "../ledger/_sample_ledger.ts";
import { statusRows } from "./_fixtures.ts";

/** 2024-01-02 10:00 UTC. */
const NOW_MS = (D + 600 * M) / 1000;

function logRecorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: (level, message) => lines.push(`${level} ${message}`), lines };
}

/** A collector's readable state: quotes move between ticks, flushes are appended as they complete. */
class CollectorState implements TickerCollector {
  prices = new Map([["spot BTCUSDT", 43_000], ["usdm BTCUSDT", 43_010], ["spot ETHUSDT", 2300]]);
  readonly flushes: FlushResult[] = [];
  flushCount = 0;
  lastFlushMs = NOW_MS - 5000;

  quotes() {
    return [...this.prices].map(([key, mid]) => {
      const [market, symbol] = key.split(" ") as [string, string];
      return { market, symbol, bid: mid - 0.5, ask: mid + 0.5 };
    });
  }

  symbolStatus() {
    return statusRows();
  }

  addFlush(files: FlushResult["files"], symbolRows: FlushResult["symbolRows"] = []): void {
    this.flushes.push({
      files,
      rows: files.reduce((n, f) => n + f.rows, 0),
      bytes: 4096,
      ms: 12,
      symbolRows,
    });
    this.flushCount++;
  }
}

Deno.test("TickerService.tick() posts one ticker from the collector, the ledger's gaps of today and the disk", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  const posted: [string, string][] = [];
  const { log, lines } = logRecorder();
  try {
    // Two gaps today on usdm ETHUSDT, one yesterday (not counted).
    await ledger.addGap("usdm", gapRow("ETHUSDT", "aggTrade", "disconnect", D + 60 * M, D + 61 * M));
    await ledger.addGap("usdm", gapRow("ETHUSDT", "depth@100ms", "sequence", D + 120 * M, D + 120 * M + S));
    await ledger.addGap("spot", gapRow("BTCUSDT", "aggTrade", "disconnect", D - 120 * M, D - 119 * M));
    const collector = new CollectorState();
    collector.addFlush([
      fileEntry("spot", "trades", "BTCUSDT", D + 599 * M, 1, 1200, 2048),
      fileEntry("spot", "trades", "BTCUSDT", D + 599 * M, 2, 300, 1024),
      fileEntry("usdm", "mark_prices", "ETHUSDT", D + 599 * M, 3, 60, 1024),
    ], [{ market: "spot", symbol: "BTCUSDT", rows: 1500 }, { market: "usdm", symbol: "ETHUSDT", rows: 60 }]);
    let now = NOW_MS;
    const service = new TickerService({
      collector,
      gaps: (f) => ledger.listGaps(f),
      diskSpace: () => Promise.resolve({ freeBytes: 50 * 2 ** 30, totalBytes: 100 * 2 ** 30 }),
      post: (text, tag) => posted.push([tag, text]),
      intervalMs: 180_000,
      flushReport: false,
      log,
      nowMs: () => now,
      rssBytes: () => 200 * 2 ** 20,
    });
    const first = await service.tick();
    assert.ok(first);
    assert.deepEqual(posted, [["ticker", first]]);
    assert.match(first, /^📈 <b>Ticker<\/b> 10:00:00 UTC · ⚠️ 2\/5 in trouble\n/);
    assert.match(first, /\n⚠️ usdm SOLUSDT down, silent 1m 5s · usdm ETHUSDT 2 gaps today\n/);
    // Mids from the quotes; spot BTCUSDT had 1500 rows in the last flush; usdm ETHUSDT has no quote; no change yet.
    const rows = first.split("\n");
    assert.ok(rows.includes(" BTCUSDT     43000 0.23     -    11 1.50k"), first);
    assert.ok(rows.includes(" ETHUSDT      2300 4.35     -    12     0"), first);
    assert.ok(rows.includes("!ETHUSDT         -    -     -    22    60"), first);
    assert.match(
      first,
      /\nRSS 200 MiB · disk 50\.0 GiB free · gaps today 2\nLast flush 5s ago: 1\.56k rows, 3 files/,
    );

    collector.prices.set("spot BTCUSDT", 43_043);
    now += 180_000;
    const second = (await service.tick())!.split("\n");
    // +43 on 43000 is +10 bp; unchanged ETHUSDT reads +0.0.
    assert.ok(second.includes(" BTCUSDT     43043 0.23   +10    11 1.50k"), second.join("\n"));
    assert.ok(second.includes(" ETHUSDT      2300 4.35  +0.0    12     0"), second.join("\n"));
    assert.deepEqual(lines, []);
  } finally {
    ledger.close();
  }
});

Deno.test("TickerService.tick() still posts when the ledger cannot be read, and logs it", async () => {
  const posted: string[] = [];
  const { log, lines } = logRecorder();
  const service = new TickerService({
    collector: new CollectorState(),
    gaps: () => Promise.reject(new Error("database is locked")),
    diskSpace: () => Promise.reject(new Error("EACCES")),
    post: (text) => posted.push(text),
    intervalMs: 180_000,
    flushReport: false,
    log,
    nowMs: () => NOW_MS,
  });
  await service.tick();
  assert.equal(posted.length, 1);
  assert.match(posted[0]!, /\nRSS [\d.]+ MiB · disk \? free · gaps today \?\nNo flush yet/);
  assert.deepEqual(lines, ["warn ticker: today's gaps not read"]);
});

Deno.test("TickerService.checkFlushes() posts the table of a new flush that wrote files, once", () => {
  const collector = new CollectorState();
  const posted: [string, string][] = [];
  const service = new TickerService({
    collector,
    gaps: () => Promise.resolve([]),
    diskSpace: () => Promise.resolve({ freeBytes: 1, totalBytes: 1 }),
    post: (text, tag) => posted.push([tag, text]),
    intervalMs: 0,
    flushReport: true,
    log: () => {},
    nowMs: () => NOW_MS,
  });
  assert.equal(service.checkFlushes(), false);
  collector.addFlush([
    fileEntry("spot", "trades", "BTCUSDT", D + 599 * M, 1, 1200, 2048),
    fileEntry("usdm", "trades", "BTCUSDT", D + 599 * M, 2, 800, 2048),
    fileEntry("usdm", "mark_prices", "ETHUSDT", D + 599 * M, 3, 60, 1024),
  ]);
  assert.equal(service.checkFlushes(), true);
  assert.equal(service.checkFlushes(), false, "the same flush is not reported twice");
  collector.addFlush([]);
  assert.equal(service.checkFlushes(), false, "a flush that wrote nothing is not reported");
  assert.deepEqual(posted, [[
    "flush",
    "💾 <b>Flush</b> 10:00:00 UTC: 2.06k rows, 3 files, 4.00 KiB in 12 ms\n" +
    "<pre>table         spot   usdm\n" +
    "mark_prices      -     60\n" +
    "trades       1.20k    800</pre>",
  ]]);
});
