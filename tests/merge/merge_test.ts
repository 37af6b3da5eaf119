/**
 * mergeRecordings in process, on recordings written with the collector's own table store: across an hour's
 * turn (a copy of a row in the next hour), a gap one recording covers, the output checked by verify, and a
 * file that cannot be read (nothing is left behind).
 */
import assert from "node:assert/strict";
import { mergeRecordings } from "../../lib/merge/merge.ts";
import { SweepReadError } from "../../lib/merge/symbol_sweep.ts";
import { TableStore } from "../../lib/pipeline/table_store.ts";
import { verifyDataDir } from "../../lib/report/verify.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { readTableRows } from "../../lib/storage/read_rows.ts";
import type { Row } from "../../lib/storage/tables.ts";
import { withTempDir } from "../temp_dir.ts";

const H7 = Date.UTC(2024, 0, 2, 7) * 1000;
const H8 = H7 + 3_600_000_000;

const trade = (id: number, localUs: number, source = "ws"): Row<"trades"> => ({
  symbol: "BTCUSDT",
  exchange_time: source === "ws" ? localUs - 5 : null,
  trade_time: localUs - 10,
  local_time: localUs,
  agg_trade_id: id,
  first_trade_id: id,
  last_trade_id: id,
  price: 100 + id,
  quantity: 1,
  is_buyer_maker: false,
  source,
});

const gap = (kind: string, start: number, end: number): Row<"gaps"> => ({
  symbol: "BTCUSDT",
  stream: "aggTrade",
  kind,
  start_time: start,
  end_time: end,
  last_update_id: null,
  resume_update_id: null,
  reason: "connection closed",
});

/** Writes one recording (a shard) into `dir`: trades, then gap rows, flushed as the collector would. */
async function record(
  dir: string,
  shard: string,
  trades: Row<"trades">[],
  gaps: Row<"gaps">[],
): Promise<void> {
  const manifest = await Manifest.load(dir);
  const store = new TableStore(dir, { manifest, shard });
  for (const t of trades) store.row("spot", "trades", t.symbol, t.local_time, t);
  for (const g of gaps) store.row("spot", "gaps", g.symbol, g.start_time, g);
  await store.flush();
  await manifest.save();
}

Deno.test("merge: across an hour's turn every trade once, a gap one recording covers is gone, verify passes", async () => {
  await withTempDir(async (dir) => {
    // A: trades 1..10 in hour 7 (10 just before the turn), then 11..20; it lost 11..14 live and backfilled them.
    const a = [
      ...Array.from({ length: 10 }, (_, i) => trade(i + 1, H8 - 10_000 + i * 1000)),
      ...Array.from({ length: 6 }, (_, i) => trade(i + 15, H8 + 60_000_000 + i)),
      ...Array.from({ length: 4 }, (_, i) => trade(i + 11, H8 + 90_000_000, "rest")),
    ];
    // B (slower): 8..16 live, its copy of trade 10 arrives in hour 8; it never got 17..20 (a gap of its own).
    const b = Array.from(
      { length: 9 },
      (_, i) => trade(i + 8, H8 - 2_000 + i * 1000 + (i >= 3 ? 20_000_000 : 0)),
    );
    await record(`${dir}/in`, "s0", a, [
      gap("disconnect", H8 + 1, H8 + 50_000_000),
      gap("backfilled", H8 + 1, H8 + 50_000_000),
    ]);
    await record(`${dir}/in`, "s1", b, [gap("disconnect", H8 + 20_000_100, H8 + 80_000_000)]);

    const report = await mergeRecordings({ inputs: [`${dir}/in`], out: `${dir}/out` });
    assert.deepEqual(report.recordings.map((r) => [r.label, r.gaps]), [
      [`s0@${dir}/in`, { rows: 2, missing: 0 }],
      [`s1@${dir}/in`, { rows: 1, missing: 1 }],
    ]);
    assert.equal(report.gaps, 0, "A covered B's gap, and A's own was backfilled");
    const entries = (await Manifest.load(`${dir}/out`)).entries();
    assert.deepEqual(entries.map((e) => [e.table, e.path.split("/").at(-1)!.slice(0, 8), e.rows]), [
      ["trades", "hour-07-", 10],
      ["trades", "hour-08-", 10],
    ]);
    const rows = await readTableRows(`${dir}/out`, entries, "spot", "trades");
    assert.deepEqual(rows.map((r) => r.agg_trade_id), Array.from({ length: 20 }, (_, i) => i + 1));
    // The earliest arrival of each: 8..10 from A (in hour 7), 11..14 live from B rather than A's backfill.
    assert.deepEqual(rows.filter((r) => r.agg_trade_id >= 8 && r.agg_trade_id <= 14).map((r) => r.source), [
      "ws",
      "ws",
      "ws",
      "ws",
      "ws",
      "ws",
      "ws",
    ]);
    assert.deepEqual(report.tables["spot/trades"], { read: 29, kept: 20, duplicates: 9, superseded: 0 });
    const verified = await verifyDataDir(`${dir}/out`);
    assert.deepEqual(verified.problems, []);
    assert.equal(verified.checked, 2);
  });
});

Deno.test("merge: a file that does not read fails the merge and leaves nothing behind", async () => {
  await withTempDir(async (dir) => {
    await record(`${dir}/in`, "s0", [trade(1, H7 + 5)], []);
    const [entry] = (await Manifest.load(`${dir}/in`)).entries();
    await Deno.writeTextFile(`${dir}/in/${entry!.path}`, "not parquet");
    await assert.rejects(mergeRecordings({ inputs: [`${dir}/in`], out: `${dir}/out` }), SweepReadError);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["in"], "no OUT, no work directory");
  });
});
