import assert from "node:assert/strict";
import { join } from "node:path";
import { CompactRunError, registerCompact, runCompact } from "../../cron/compact.ts";
import { TableStore } from "../../lib/pipeline/table_store.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { ParquetEncoder } from "../../lib/storage/parquet_encoder.ts";
import { fakeCron, onlyRegistration } from "./_fake_cron.ts";

const H = Date.UTC(2026, 2, 1, 7) * 1000;

function row(symbol: string, us: number, i: number) {
  return { symbol, funding_time: us - us % 1000, funding_rate: i / 1e4, mark_price: null, local_time: us };
}

/** Two flushes of usdm funding_rates for two symbols in the hour starting at `hourUs` (default 2026-03-01 07:00). */
async function twoFlushes(dataDir: string, hourUs = H): Promise<Manifest> {
  const manifest = await Manifest.load(dataDir);
  const store = new TableStore(dataDir, { manifest });
  for (const [k, us] of [hourUs + 1, hourUs + 60_000_000].entries()) {
    for (const s of ["BTCUSDT", "ETHUSDT"]) store.row("usdm", "funding_rates", s, us, row(s, us, k));
    await store.flush();
  }
  return manifest;
}

Deno.test("runCompact() merges finished hours found in the manifest, under fake time", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cron_compact_" });
  try {
    const manifest = await twoFlushes(dataDir);
    // One file per flush, both symbols in it.
    assert.equal(manifest.size, 2);
    // At 08:01 hour 07 is still within the grace period.
    const early = await runCompact({ manifest }, H / 1000 + 3_600_000 + 60_000);
    assert.deepEqual(early.compacted, [], "within the grace period nothing is merged");
    const report = await runCompact({ manifest }, H / 1000 + 2 * 3_600_000);
    assert.equal(report.compacted.length, 1);
    assert.equal(manifest.size, 1);
    const [merged] = manifest.entries();
    assert.match(merged!.path, /^usdm\/funding_rates\/date=2026-03-01\/hour-07-/);
    assert.equal(merged!.rows, 4);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("runCompact() throws CompactRunError when a group fails, after merging the others", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cron_compact_" });
  try {
    await twoFlushes(dataDir);
    const manifest = await twoFlushes(dataDir, H + 3_600_000_000);
    const victim = manifest.entries().find((e) => e.path.includes("/part-08-"))!;
    await Deno.writeFile(join(dataDir, victim.path), new Uint8Array([1, 2, 3]));
    const err = await runCompact({ manifest }, H / 1000 + 3 * 3_600_000).then(() => null, (e) => e);
    assert.ok(err instanceof CompactRunError);
    assert.equal(err.report.compacted.length, 1);
    assert.match(err.report.compacted[0]!.target.path, /\/hour-07-/);
    assert.ok(err.message.includes(victim.path), err.message);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("registerCompact() registers hourly with a backoff schedule", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cron_compact_" });
  try {
    const { cron, registered } = fakeCron();
    // The handler runs on the wall clock: write into the hour that started 3 hours ago.
    const hourUs = Math.floor(Date.now() / 3_600_000 - 3) * 3_600_000_000;
    const manifest = await twoFlushes(dataDir, hourUs);
    registerCompact({ manifest }, cron);
    const r = onlyRegistration(registered, "compact");
    assert.equal(r.schedule, "15 * * * *");
    assert.equal(manifest.size, 2);
    await r.handler();
    assert.equal(manifest.size, 1);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("registerCompact(): a run the stop cuts short (its worker closed) is logged as interrupted, not failed", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cron_compact_" });
  const encoder = new ParquetEncoder();
  try {
    const { cron, registered } = fakeCron();
    const hourUs = Math.floor(Date.now() / 3_600_000 - 3) * 3_600_000_000;
    const manifest = await twoFlushes(dataDir, hourUs);
    const stopping = new AbortController();
    const logged: [string, string][] = [];
    registerCompact(
      { manifest, jobs: encoder, log: (level, msg) => logged.push([level, msg]) },
      cron,
      stopping.signal,
    );
    const r = onlyRegistration(registered, "compact");
    // The collector's stop: the cron jobs' signal aborts, then its Parquet worker closes.
    stopping.abort();
    encoder.close();
    await r.handler();
    assert.equal(manifest.size, 2, "nothing merged");
    assert.deepEqual(logged.filter(([level]) => level !== "debug"), [[
      "info",
      "compaction interrupted by the stop",
    ]]);
    // Without the stop the same failure is an error, rethrown for the runtime's retries.
    const { cron: cron2, registered: registered2 } = fakeCron();
    registerCompact({ manifest, jobs: encoder, log: (level, msg) => logged.push([level, msg]) }, cron2);
    await assert.rejects(onlyRegistration(registered2, "compact").handler(), CompactRunError);
    assert.ok(
      logged.some(([level, msg]) => level === "error" && msg === "cron job failed"),
      JSON.stringify(logged),
    );
  } finally {
    encoder.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
