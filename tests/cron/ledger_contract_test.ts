/**
 * The jobs talk to the ledger through their own small interfaces (ClockSampleSink, FileLedger); this checks that
 * the real `Ledger` (on `:memory:` KV) fits them and stores what the jobs hand it.
 */
import assert from "node:assert/strict";
import { runTimeSync } from "../../cron/time_sync.ts";
import { Ledger } from "../../lib/ledger/ledger.ts";
import { TableStore } from "../../lib/pipeline/table_store.ts";
import { compactFinishedHours } from "../../lib/storage/compact.ts";
import { Manifest } from "../../lib/storage/manifest.ts";

Deno.test("the Ledger stores time_sync's clock samples", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  const logDir = await Deno.makeTempDir({ prefix: "ledger_contract_" });
  try {
    const reads = [1_000.25, 1_040.5, 2_000, 2_010];
    const result = await runTimeSync({
      ntp: null,
      markets: [
        { market: "spot", serverTime: () => Promise.resolve({ value: 1_120 }) },
        { market: "usdm", serverTime: () => Promise.resolve({ value: 1_900 }) },
      ],
      logDir,
      sink: ledger,
      clockMs: () => reads.shift()!,
    }, 0);
    assert.equal(result.samples.length, 2);
    const stored = await ledger.listClockSamples(0, 3_000_000);
    assert.deepEqual(stored, [
      { atUs: 1_040_500, source: "binance-spot", offsetMs: 99.625, rttMs: 40.25 },
      { atUs: 2_010_000, source: "binance-usdm", offsetMs: -105, rttMs: 10 },
    ]);
  } finally {
    ledger.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("the Ledger follows compaction's file changes", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  const dataDir = await Deno.makeTempDir({ prefix: "ledger_contract_" });
  try {
    const manifest = await Manifest.load(dataDir);
    const store = new TableStore(dataDir, { manifest });
    const hourUs = Date.UTC(2026, 3, 1, 12) * 1000;
    for (const us of [hourUs + 5, hourUs + 10]) {
      store.row("usdm", "funding_rates", "BTCUSDT", us, {
        symbol: "BTCUSDT",
        funding_time: hourUs,
        funding_rate: 0.0001,
        mark_price: 60_000,
        local_time: us,
      });
      await store.flush();
    }
    await ledger.addFiles(manifest.entries());
    assert.equal((await ledger.listFiles("2026-04-01")).length, 2);

    await compactFinishedHours({ manifest, ledger }, hourUs / 1000 + 2 * 3_600_000);
    assert.deepEqual(await ledger.listFiles("2026-04-01"), manifest.entries());
    assert.match(manifest.entries()[0]!.path, /\/hour-12-/);
  } finally {
    ledger.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
