import assert from "node:assert/strict";
import {
  compactedFileName,
  fileShard,
  fileStartUs,
  hourStartUs,
  journalDir,
  manifestPath,
  parquetFileName,
  parquetPath,
  parseLegacyParquetPath,
  parseParquetPath,
  partitionDir,
  relativeParquetPath,
  utcDate,
  utcHour,
} from "../../lib/storage/layout.ts";

// 2024-02-29T23:59:59.999999Z and one µs later.
const LAST_US = Date.UTC(2024, 1, 29, 23, 59, 59, 999) * 1000 + 999;

Deno.test("utcDate()/utcHour()/hourStartUs() follow the UTC calendar at microsecond edges", () => {
  assert.equal(utcDate(LAST_US), "2024-02-29");
  assert.equal(utcHour(LAST_US), 23);
  assert.equal(utcDate(LAST_US + 1), "2024-03-01");
  assert.equal(utcHour(LAST_US + 1), 0);
  assert.equal(hourStartUs(LAST_US), Date.UTC(2024, 1, 29, 23) * 1000);
  assert.equal(hourStartUs(LAST_US + 1), LAST_US + 1);
});

Deno.test("relativeParquetPath() builds the hive layout of the contract: one date level, no symbol level", () => {
  const key = { market: "usdm", table: "depth_updates", firstLocalUs: LAST_US, seq: 7 } as const;
  const rel = relativeParquetPath(key);
  assert.equal(rel, `usdm/depth_updates/date=2024-02-29/part-23-${LAST_US}-000007.parquet`);
  assert.equal(rel, `${partitionDir("usdm", "depth_updates", "2024-02-29")}/${parquetFileName(LAST_US, 7)}`);
  assert.equal(parquetPath("/data/", key), `/data/${rel}`);
});

Deno.test("parquetFileName() sorts by time, then sequence", () => {
  const times = [5, 1_000_000, LAST_US - 3_600_000_000, LAST_US, LAST_US];
  const names = times.map((t, i) => parquetFileName(t, i === 4 ? 12 : 3));
  assert.deepEqual(names.toSorted(), names);
  assert.equal(new Set(names).size, names.length);
  assert.throws(() => parquetFileName(-1, 0), RangeError);
  assert.throws(() => parquetFileName(1.5, 0), RangeError);
});

Deno.test("parseParquetPath() inverts relativeParquetPath() and rejects paths outside the layout", () => {
  const key = { market: "spot", table: "trades", firstLocalUs: LAST_US, seq: 0 } as const;
  assert.deepEqual(parseParquetPath(relativeParquetPath(key)), {
    market: "spot",
    table: "trades",
    date: "2024-02-29",
    file: parquetFileName(LAST_US, 0),
  });
  assert.equal(parseParquetPath("spot/trades/date=2024-02-29/x.json"), null);
  assert.equal(parseParquetPath("coin/trades/date=2024-02-29/x.parquet"), null);
  assert.equal(parseParquetPath("spot/trade/date=2024-02-29/x.parquet"), null);
  assert.equal(parseParquetPath("spot/trades/2024-02-29/x.parquet"), null);
  assert.equal(parseParquetPath("_journal/00.wal"), null);
  // A 0.3 path (symbol level) is not of the layout; parseLegacyParquetPath() reads it, for the migration.
  const legacy = "spot/trades/date=2024-02-29/symbol=测试USDT/part-23-0000000000000005-000000.parquet";
  assert.equal(parseParquetPath(legacy), null);
  assert.deepEqual(parseLegacyParquetPath(legacy), {
    market: "spot",
    table: "trades",
    date: "2024-02-29",
    symbol: "测试USDT",
    file: "part-23-0000000000000005-000000.parquet",
  });
  assert.equal(parseLegacyParquetPath(relativeParquetPath(key)), null);
  assert.equal(parseLegacyParquetPath("spot/trades/date=2024-02-29/BTCUSDT/x.parquet"), null);
});

Deno.test("fileStartUs() reads part and compacted names; compactedFileName() builds the latter", () => {
  assert.equal(fileStartUs("part-10-1767607200000000-000003.parquet"), 1767607200000000);
  const name = compactedFileName(1767607200123456, "0a1b2c3d");
  assert.equal(name, "hour-10-1767607200123456-0a1b2c3d.parquet");
  assert.equal(fileStartUs(name), 1767607200123456);
  for (
    const other of ["data.parquet", "part-10-17676072-000003.parquet", "hour-10-1767607200000000-xyz.parquet"]
  ) {
    assert.equal(fileStartUs(other), null, other);
  }
  assert.throws(() => compactedFileName(1.5, "0a1b2c3d"), RangeError);
  assert.throws(() => compactedFileName(0, "ABCDEFGH"), RangeError);
});

Deno.test("a shard's file names carry it: unique per shard in one remote, time and shard read back", () => {
  const part = parquetFileName(1767607200000000, 3, "s1");
  assert.equal(part, "part-10-1767607200000000-000003.s1.parquet");
  const hour = compactedFileName(1767607200123456, "0a1b2c3d", "eu-2");
  assert.equal(hour, "hour-10-1767607200123456-0a1b2c3d.eu-2.parquet");
  assert.deepEqual([fileStartUs(part), fileShard(part)], [1767607200000000, "s1"]);
  assert.deepEqual([fileStartUs(hour), fileShard(hour)], [1767607200123456, "eu-2"]);
  assert.equal(fileShard(parquetFileName(1767607200000000, 3)), null, "unsharded names are as before");
  assert.notEqual(parquetFileName(1767607200000000, 3, "s0"), part, "two shards never share a name");
  assert.equal(
    relativeParquetPath({
      market: "usdm",
      table: "trades",
      firstLocalUs: 1767607200000000,
      seq: 0,
      shard: "s2",
    }),
    "usdm/trades/date=2026-01-05/part-10-1767607200000000-000000.s2.parquet",
  );
  assert.throws(() => parquetFileName(0, 0, "S1"), RangeError);
  assert.throws(() => parquetFileName(0, 0, "a.b"), RangeError);
  assert.equal(fileStartUs("part-10-1767607200000000-000003.S1.parquet"), null);
});

Deno.test("journalDir() and manifestPath() sit under data_dir", () => {
  assert.equal(journalDir("data"), "data/_journal");
  assert.equal(manifestPath("/srv/data"), "/srv/data/_manifest/checksums.json");
});
