import assert from "node:assert/strict";
import { DAY_US, HOUR_US } from "../../lib/ledger/intervals.ts";
import { LedgerConflictError } from "../../lib/ledger/conflicts.ts";
import { GapNotFoundError, MAX_GAP_DAYS } from "../../lib/ledger/gaps.ts";
import { Ledger } from "../../lib/ledger/ledger.ts";
import type { CoverageRow } from "../../lib/ledger/records.ts";
import { manifestPath } from "../../lib/storage/layout.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { buildSampleLedger, D, DATE, fileEntry, gapRow, M } from "./_sample_ledger.ts";
import { withTempDir } from "../temp_dir.ts";

async function withLedger(fn: (ledger: Ledger) => Promise<void>): Promise<void> {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  try {
    await fn(ledger);
  } finally {
    ledger.close();
  }
}

Deno.test("Ledger.addGap() is idempotent and keeps the first record with its recovery", async () => {
  await withLedger(async (ledger) => {
    const row = gapRow("BTCUSDT", "aggTrade", "disconnect", D, D + M);
    assert.equal(await ledger.addGap("spot", row), true);
    assert.equal(await ledger.addGap("spot", { ...row, end_time: D + 2 * M }), false);
    const key = {
      market: "spot" as const,
      symbol: "BTCUSDT",
      stream: "aggTrade",
      startUs: D,
      kind: "disconnect",
    };
    await ledger.markRecovered(key, D + 5 * M, "backfilled 12 trades");
    assert.equal(await ledger.addGap("spot", row), false);
    const gaps = await ledger.listGaps({ fromUs: D, toUs: D + DAY_US });
    assert.equal(gaps.length, 1);
    assert.deepEqual(gaps[0], {
      market: "spot",
      row,
      recoveredAtUs: D + 5 * M,
      recoveryNote: "backfilled 12 trades",
    });
    // The same start on another market, stream or kind is another gap.
    assert.equal(await ledger.addGap("usdm", row), true);
    assert.equal(await ledger.addGap("spot", { ...row, kind: "stale" }), true);
    assert.equal((await ledger.listGaps({ fromUs: D, toUs: D + M })).length, 3);
  });
});

Deno.test("Ledger.addGap() validates the row and caps long texts", async () => {
  await withLedger(async (ledger) => {
    await assert.rejects(ledger.addGap("spot", gapRow("BTCUSDT", "aggTrade", "lost", D, D + 1)), RangeError);
    await assert.rejects(ledger.addGap("spot", gapRow("BTCUSDT", "aggTrade", "stale", D, D - 1)), RangeError);
    await assert.rejects(
      ledger.addGap("spot", gapRow("BTCUSDT", "aggTrade", "stale", 0, (MAX_GAP_DAYS + 1) * DAY_US)),
      RangeError,
    );
    await ledger.addGap("spot", gapRow("BTCUSDT", "aggTrade", "stale", D, D + 1, "x".repeat(100_000)));
    const [g] = await ledger.listGaps({ fromUs: D, toUs: D + 1 });
    assert.equal(g!.row.reason.length, 500);
  });
});

Deno.test("Ledger.listGaps() filters by stream and time; a gap over several days is listed once", async () => {
  await withLedger(async (ledger) => {
    await ledger.addGap(
      "spot",
      gapRow("BTCUSDT", "aggTrade", "disconnect", D - DAY_US + HOUR_US, D + 2 * DAY_US),
    );
    await ledger.addGap("spot", gapRow("BTCUSDT", "depth@100ms", "sequence", D + HOUR_US, D + HOUR_US + M));
    await ledger.addGap("spot", gapRow("ETHUSDT", "aggTrade", "stale", D + 2 * HOUR_US, D + 2 * HOUR_US));
    await ledger.addGap("usdm", gapRow("BTCUSDT", "aggTrade", "stale", D + 3 * HOUR_US, D + 4 * HOUR_US));
    const list = async (f: Partial<Parameters<Ledger["listGaps"]>[0]>) =>
      (await ledger.listGaps({ fromUs: D, toUs: D + DAY_US, ...f })).map((g) =>
        `${g.market} ${g.row.symbol} ${g.row.stream} ${(g.row.start_time - D) / HOUR_US}`
      );
    assert.deepEqual(await list({}), [
      "spot BTCUSDT aggTrade -23",
      "spot BTCUSDT depth@100ms 1",
      "spot ETHUSDT aggTrade 2",
      "usdm BTCUSDT aggTrade 3",
    ]);
    assert.deepEqual(await list({ market: "spot", symbol: "BTCUSDT" }), [
      "spot BTCUSDT aggTrade -23",
      "spot BTCUSDT depth@100ms 1",
    ]);
    assert.deepEqual(await list({ symbol: "BTCUSDT", stream: "aggTrade" }), [
      "spot BTCUSDT aggTrade -23",
      "usdm BTCUSDT aggTrade 3",
    ]);
    // Bounds: a gap ending exactly at fromUs is out, a zero-length gap at fromUs is in, toUs is exclusive.
    assert.deepEqual(
      await list({ fromUs: D + HOUR_US + M, toUs: D + 2 * HOUR_US + 1, market: "spot", symbol: "ETHUSDT" }),
      [
        "spot ETHUSDT aggTrade 2",
      ],
    );
    assert.deepEqual(
      await list({ fromUs: D + HOUR_US + M, toUs: D + 2 * HOUR_US, stream: "depth@100ms" }),
      [],
    );
    assert.deepEqual(
      await list({
        fromUs: D + 2 * HOUR_US,
        toUs: D + 2 * HOUR_US + 1,
        stream: "aggTrade",
        symbol: "ETHUSDT",
      }),
      [
        "spot ETHUSDT aggTrade 2",
      ],
    );
    assert.deepEqual(await list({ fromUs: D + 3 * DAY_US, toUs: D + 4 * DAY_US }), []);
    assert.deepEqual(await list({ fromUs: D + DAY_US, toUs: D }), []);
  });
});

Deno.test("Ledger.markRecovered() updates every day copy and rejects an unknown gap", async () => {
  await withLedger(async (ledger) => {
    await ledger.addGap("spot", gapRow("BTCUSDT", "trades", "disconnect", D, D + 2 * DAY_US + M));
    const key = {
      market: "spot" as const,
      symbol: "BTCUSDT",
      stream: "trades",
      startUs: D,
      kind: "disconnect",
    };
    await ledger.markRecovered(key, D + 3 * DAY_US, "done");
    for (const day of [0, 1, 2]) {
      const [g] = await ledger.listGaps({ fromUs: D + day * DAY_US, toUs: D + (day + 1) * DAY_US - 1 });
      assert.equal(g?.recoveredAtUs, D + 3 * DAY_US, `day ${day}`);
    }
    assert.equal((await ledger.getGap(key))?.recoveryNote, "done");
    await assert.rejects(ledger.markRecovered({ ...key, kind: "stale" }, D, "x"), GapNotFoundError);
  });
});

Deno.test("Ledger.coverage() gives the hand-worked figures of the sample day", async () => {
  await withLedger(async (ledger) => {
    await buildSampleLedger(ledger);
    const rows = await ledger.coverage(DATE);
    const fields = (r: CoverageRow) => [
      `${r.market} ${r.symbol} ${r.stream} h${(r.hourUs - D) / HOUR_US}`,
      r.messages,
      r.gaps,
      r.recordedSeconds,
      r.observedSeconds,
      r.gapSeconds,
      r.recoveredSeconds,
      r.coveredSeconds,
      r.pct,
    ];
    assert.deepEqual(rows.map(fields), [
      // Overlapping disconnect [10m, 12m) and stale [11m, 15m) merge into 300 s.
      ["spot BTCUSDT aggTrade h0", 150, 2, 3600, 3600, 300, 0, 3300, (3300 / 3600) * 100],
      // Down the whole hour: no spans, the disconnect gap is all of it.
      ["spot BTCUSDT aggTrade h3", 0, 1, 0, 3600, 3600, 0, 0, 0],
      // Disconnect of 600 s, 360 s of it backfilled, plus a 60 s stale gap marked recovered.
      ["spot BTCUSDT aggTrade h5", 1000, 3, 3600, 3600, 240, 420, 3360, (3360 / 3600) * 100],
      // No gap row: 100% of the 10 recorded minutes.
      ["spot BTCUSDT bookTicker h7", 300, 0, 600, 600, 0, 0, 600, 100],
      // One sequence gap across the hour boundary: 600 s on each side.
      ["spot BTCUSDT depth@100ms h1", 2000, 1, 3600, 3600, 600, 0, 3000, (3000 / 3600) * 100],
      ["spot BTCUSDT depth@100ms h2", 2000, 1, 3600, 3600, 600, 0, 3000, (3000 / 3600) * 100],
      // A stale gap from the previous day: only its 300 s after midnight count.
      ["usdm ETHUSDT markPrice@1s h0", 1200, 1, 1200, 1200, 300, 0, 900, 75],
    ]);
    assert.deepEqual(await ledger.coverage("2024-01-05"), []);
    await assert.rejects(ledger.coverage("02/01/2024"), RangeError);
  });
});

Deno.test("Ledger.addCoverage() sums concurrent samples through version checks", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"), { maxAttempts: 25 });
  try {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ledger.addCoverage("spot", "BTCUSDT", "aggTrade", D, {
          messages: i + 1,
          spanStartUs: D + i * M,
          spanEndUs: D + (i + 1) * M,
        })),
    );
    const [row] = await ledger.coverage(DATE);
    assert.equal(row?.messages, 210);
    assert.equal(row?.recordedSeconds, 1200);
    await assert.rejects(
      ledger.addCoverage("spot", "BTCUSDT", "aggTrade", D + 1, { messages: 1, spanStartUs: D, spanEndUs: D }),
      RangeError,
    );
  } finally {
    ledger.close();
  }
});

Deno.test("Ledger read-modify-writes throw LedgerConflictError when every commit conflicts", async () => {
  const real = await Deno.openKv(":memory:");
  // A KV whose every read is followed by another writer's update of the same key.
  const meddling = new Proxy(real, {
    get(target, prop) {
      if (prop === "get") {
        return async (key: Deno.KvKey) => {
          const entry = await target.get(key);
          await target.set(key, entry.value ?? { messages: 0, spans: [] });
          return entry;
        };
      }
      if (prop === "getMany") {
        return async (keys: Deno.KvKey[]) => {
          const entries = await target.getMany(keys);
          for (const e of entries) await target.set(e.key, e.value ?? { messages: 0, spans: [] });
          return entries;
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const ledger = new Ledger(meddling, { maxAttempts: 3 });
  try {
    const err = await ledger
      .addCoverage("spot", "BTCUSDT", "aggTrade", D, { messages: 1, spanStartUs: D, spanEndUs: D + 1 })
      .then(() => null, (e: unknown) => e);
    assert.ok(err instanceof LedgerConflictError);
    assert.equal(err.attempts, 3);
    assert.equal(err.name, "LedgerConflictError");
  } finally {
    ledger.close();
  }
});

Deno.test("Ledger.commitCheckpoint() commits atomically and refuses a stale previous checkpoint", async () => {
  await withLedger(async (ledger) => {
    assert.equal(await ledger.getCheckpoint(), null);
    const a = fileEntry("spot", "trades", "BTCUSDT", D, 0, 10, 100);
    const b = fileEntry("spot", "trades", "BTCUSDT", D + M, 1, 20, 200);
    assert.equal(await ledger.commitCheckpoint(null, { segment: 0, offset: 4096 }, [a]), true);
    const first = await ledger.getCheckpoint();
    assert.deepEqual({ ...first, versionstamp: undefined }, {
      segment: 0,
      offset: 4096,
      files: 1,
      versionstamp: undefined,
    });
    // Another writer committing from "no checkpoint" is stale now: nothing of it is written.
    assert.equal(await ledger.commitCheckpoint(null, { segment: 0, offset: 9999 }, [b]), false);
    assert.deepEqual((await ledger.listFiles()).map((f) => f.path), [a.path]);
    assert.equal(await ledger.commitCheckpoint(first, { segment: 1, offset: 0 }, [b]), true);
    // `first` is stale after that commit.
    assert.equal(await ledger.commitCheckpoint(first, { segment: 2, offset: 0 }, []), false);
    const second = await ledger.getCheckpoint();
    assert.equal(second?.segment, 1);
    assert.notEqual(second?.versionstamp, first?.versionstamp);
    assert.deepEqual((await ledger.listFiles()).map((f) => f.path), [a.path, b.path]);
    await assert.rejects(ledger.commitCheckpoint(second, { segment: 0, offset: 10 }, []), RangeError);
  });
});

Deno.test("Ledger.commitCheckpoint() records more files than one atomic operation holds", async () => {
  await withLedger(async (ledger) => {
    const files = Array.from(
      { length: 1500 },
      (_, i) => fileEntry("spot", "trades", "BTCUSDT", D + i, i, 1, 10),
    );
    assert.equal(await ledger.commitCheckpoint(null, { segment: 3, offset: 7 }, files), true);
    assert.equal((await ledger.listFiles()).length, 1500);
    assert.equal((await ledger.getCheckpoint())?.files, 1500);
    await ledger.removeFiles(files.slice(0, 1499).map((f) => f.path));
    assert.deepEqual(await ledger.listFiles(), [files[1499]]);
  });
});

Deno.test("Ledger.mirrorManifest() writes exactly what Manifest writes for the same entries", async () => {
  await withTempDir(async (dir) => {
    await withLedger(async (ledger) => {
      const entries = [
        fileEntry("usdm", "mark_prices", "ETHUSDT", D + 5, 3, 1200, 25000),
        fileEntry("spot", "trades", "BTCUSDT", D + 1, 0, 100, 2000),
        fileEntry("spot", "trades", "BTCUSDT", D + 30 * M, 1, 50, 1500),
      ];
      // Extra fields of the caller's objects are not stored.
      await ledger.addFiles(entries.map((e) => ({ ...e, extra: 1 })));
      // The existing manifest lists a file the ledger does not know: the mirror drops it.
      const stale = await Manifest.load(`${dir}/mirror`);
      stale.add(fileEntry("spot", "trades", "XRPUSDT", D, 9, 1, 1));
      await stale.save();
      assert.equal((await ledger.mirrorManifest(`${dir}/mirror`)).size, 3);

      const reference = await Manifest.load(`${dir}/reference`);
      for (const e of entries) reference.add(e);
      await reference.save();
      const mirrored = await Deno.readTextFile(manifestPath(`${dir}/mirror`));
      assert.equal(mirrored, await Deno.readTextFile(manifestPath(`${dir}/reference`)));
      assert.deepEqual((await Manifest.load(`${dir}/mirror`)).entries(), await ledger.listFiles());

      // An unreadable manifest is replaced by the ledger's view.
      await Deno.writeTextFile(manifestPath(`${dir}/mirror`), "{not json");
      await ledger.mirrorManifest(`${dir}/mirror`);
      assert.equal(await Deno.readTextFile(manifestPath(`${dir}/mirror`)), mirrored);
    });
  });
});

Deno.test("Ledger flush statistics and clock samples list by time range", async () => {
  await withLedger(async (ledger) => {
    for (const [i, reason] of ["interval", "hour", "shutdown"].entries()) {
      await ledger.addFlush({
        atUs: D + i * HOUR_US,
        files: i,
        rows: 10 * i,
        bytes: 100 * i,
        ms: 1.5 * i,
        reason,
      });
    }
    assert.deepEqual((await ledger.listFlushes(D, D + 2 * HOUR_US)).map((f) => [f.reason, f.rows, f.ms]), [
      ["interval", 0, 0],
      ["hour", 10, 1.5],
    ]);
    await assert.rejects(
      ledger.addFlush({ atUs: D, files: -1, rows: 0, bytes: 0, ms: 0, reason: "x" }),
      RangeError,
    );

    await ledger.addClockSample({ atUs: D, source: "ntp", offsetMs: 1.25, rttMs: 9 });
    await ledger.addClockSample({ atUs: D, source: "binance-usdm", offsetMs: -3, rttMs: 40 });
    await ledger.addClockSample({ atUs: D + M, source: "binance-spot", offsetMs: 2, rttMs: 30 });
    assert.deepEqual((await ledger.listClockSamples(D, D + M)).map((s) => [s.source, s.offsetMs]), [
      ["binance-usdm", -3],
      ["ntp", 1.25],
    ]);
    assert.equal((await ledger.listClockSamples(D, D + M + 1)).length, 3);
    await assert.rejects(
      ledger.addClockSample({ atUs: D, source: "gps" as "ntp", offsetMs: 0, rttMs: 0 }),
      RangeError,
    );
  });
});

Deno.test("Ledger.listGaps() over a long range reads the primary records with the same filters", async () => {
  await withLedger(async (ledger) => {
    await ledger.addGap(
      "spot",
      gapRow("BTCUSDT", "aggTrade", "disconnect", D - DAY_US + HOUR_US, D + 2 * DAY_US),
    );
    await ledger.addGap("spot", gapRow("BTCUSDT", "depth@100ms", "sequence", D + HOUR_US, D + HOUR_US + M));
    await ledger.addGap("usdm", gapRow("BTCUSDT", "aggTrade", "stale", D + 300 * DAY_US, D + 300 * DAY_US));
    const all = await ledger.listGaps({ fromUs: 0, toUs: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(all.map((g) => `${g.market} ${g.row.stream}`), [
      "spot aggTrade",
      "spot depth@100ms",
      "usdm aggTrade",
    ]);
    const long = await ledger.listGaps({
      fromUs: D,
      toUs: D + 100 * DAY_US,
      stream: "aggTrade",
      symbol: "BTCUSDT",
    });
    const short = await ledger.listGaps({
      fromUs: D,
      toUs: D + 10 * DAY_US,
      stream: "aggTrade",
      symbol: "BTCUSDT",
    });
    assert.deepEqual(long, short);
    assert.equal(long.length, 1);
  });
});

Deno.test("Ledger.listFiles(date) lists only that date's partitions of every market and table", async () => {
  await withLedger(async (ledger) => {
    const files = [
      fileEntry("spot", "trades", "BTCUSDT", D + 1, 0, 1, 1),
      fileEntry("usdm", "mark_prices", "ETHUSDT", D + HOUR_US, 1, 1, 1),
      fileEntry("spot", "trades", "BTCUSDT", D - 1, 2, 1, 1),
      fileEntry("spot", "trades", "BTCUSDT", D + DAY_US, 3, 1, 1),
    ];
    await ledger.addFiles(files);
    assert.deepEqual((await ledger.listFiles(DATE)).map((f) => f.path), [files[0]!.path, files[1]!.path]);
    assert.equal((await ledger.listFiles()).length, 4);
    await assert.rejects(ledger.listFiles("2024-1-2"), RangeError);
  });
});

Deno.test("Ledger.addCoverageMany() sums a whole market's stream-hours over many flushes, 100 keys a commit", async () => {
  await withLedger(async (ledger) => {
    const HOUR = 3_600_000_000;
    const items = (flush: number) =>
      Array.from({ length: 250 }, (_, i) => ({
        market: "spot" as const,
        symbol: `S${i}USDT`,
        stream: "aggTrade",
        hourUs: D,
        sample: { messages: i, spanStartUs: D + flush * 1000, spanEndUs: D + (flush + 1) * 1000 },
      }));
    for (let f = 0; f < 3; f++) await ledger.addCoverageMany(items(f));
    // Another writer between flushes: the cached version is stale, the commit retries after reading.
    await ledger.addCoverage("spot", "S7USDT", "aggTrade", D, {
      messages: 1000,
      spanStartUs: D,
      spanEndUs: D,
    });
    await ledger.addCoverageMany(items(3));
    const entry = await ledger.kv.get<{ messages: number; spans: number[] }>([
      "cov",
      D,
      "spot",
      "S7USDT",
      "aggTrade",
    ]);
    assert.equal(entry.value?.messages, 4 * 7 + 1000);
    assert.deepEqual(entry.value?.spans, [D, D + 4000]);
    const last = await ledger.kv.get<{ messages: number }>(["cov", D, "spot", "S249USDT", "aggTrade"]);
    assert.equal(last.value?.messages, 4 * 249);
    assert.ok(D % HOUR === 0);
  });
});
