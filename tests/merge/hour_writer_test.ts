import assert from "node:assert/strict";
import type { AnyRow } from "../../lib/merge/dedup.ts";
import { HourFileWriter } from "../../lib/merge/hour_writer.ts";
import { sweepSymbols } from "../../lib/merge/symbol_sweep.ts";
import { describeParquetFile } from "../../lib/storage/manifest_entry.ts";
import { fileSource, readFooter, rowGroupsOf } from "../../lib/storage/parquet_footer.ts";
import { readTableRows } from "../../lib/storage/read_rows.ts";
import { withTempDir } from "../temp_dir.ts";

const HOUR = Date.UTC(2024, 0, 2, 7) * 1000;

function trades(symbol: string, n: number, from: number): AnyRow[] {
  return Array.from({ length: n }, (_, i) => ({
    symbol,
    exchange_time: HOUR + i,
    trade_time: HOUR + i,
    local_time: HOUR + from + i,
    agg_trade_id: from + i,
    first_trade_id: from + i,
    last_trade_id: from + i,
    price: 100 + i / 100,
    quantity: 1,
    is_buyer_maker: i % 2 === 0,
    source: "ws",
  }));
}

async function symbolsPerGroup(path: string): Promise<string[]> {
  const file = await Deno.open(path);
  try {
    const groups = rowGroupsOf(await readFooter(await fileSource(file)));
    const text = new TextDecoder();
    return groups.map((g) => `${text.decode(g.keyStats.min!)}..${text.decode(g.keyStats.max!)}`);
  } finally {
    file.close();
  }
}

Deno.test("hour writer: rows in order, row groups cut at symbol changes, an entry verify agrees with; the sweep reads it back by symbol", async () => {
  await withTempDir(async (dir) => {
    // A busy symbol of ~6 MiB of buffered rows between quiet ones: it gets row groups of its own.
    const rows = [
      ...trades("ADAUSDT", 10, 0),
      ...trades("BTCUSDT", 90_000, 100),
      ...trades("ETHUSDT", 20, 500_000),
    ];
    const w = new HourFileWriter(dir, { market: "spot", table: "trades", nameUs: HOUR + 5, tag: "0a1b2c3d" });
    for (let i = 0; i < rows.length; i += 7000) await w.append(rows.slice(i, i + 7000));
    const entry = (await w.finish())!;
    assert.equal(entry.path, "spot/trades/date=2024-01-02/hour-07-1704178800000005-0a1b2c3d.parquet");
    assert.deepEqual(entry, await describeParquetFile(dir, entry.path));
    const groups = await symbolsPerGroup(`${dir}/${entry.path}`);
    assert.ok(groups.length >= 2, `several row groups: ${groups}`);
    assert.ok(groups.some((g) => g === "BTCUSDT..BTCUSDT"), `the busy symbol alone in a group: ${groups}`);
    const back = await readTableRows(dir, [entry], "spot", "trades");
    assert.deepEqual(
      back.map((r) => [r.symbol, r.agg_trade_id]),
      rows.map((r) => [r.symbol, r.agg_trade_id]),
    );

    // A second file (another recording) with symbols on both sides: the sweep merges by symbol, in order.
    const w2 = new HourFileWriter(dir, {
      market: "spot",
      table: "trades",
      nameUs: HOUR + 1,
      tag: "00000001",
    });
    await w2.append([
      ...trades("AAAUSDT", 3, 0),
      ...trades("BTCUSDT", 2, 200_000),
      ...trades("ZZZUSDT", 1, 0),
    ]);
    const entry2 = (await w2.finish())!;
    const seen: [string, number, number][] = [];
    for await (
      const { symbol, rows } of sweepSymbols([{ path: `${dir}/${entry.path}`, rec: 0 }, {
        path: `${dir}/${entry2.path}`,
        rec: 1,
      }])
    ) {
      seen.push([symbol, rows.length, rows.filter((t) => t.rec === 1).length]);
      if (symbol === "BTCUSDT") {
        assert.deepEqual(
          rows.slice(0, 3).map((t) => t.row.agg_trade_id),
          [100, 101, 102],
          "file order, row order",
        );
      }
    }
    assert.deepEqual(seen, [
      ["AAAUSDT", 3, 3],
      ["ADAUSDT", 10, 0],
      ["BTCUSDT", 90_002, 2],
      ["ETHUSDT", 20, 0],
      [
        "ZZZUSDT",
        1,
        1,
      ],
    ]);
  });
});

Deno.test("hour writer: no rows, no file", async () => {
  await withTempDir(async (dir) => {
    const w = new HourFileWriter(dir, { market: "spot", table: "trades", nameUs: HOUR, tag: "0a1b2c3d" });
    await w.append([]);
    assert.equal(await w.finish(), null);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});
