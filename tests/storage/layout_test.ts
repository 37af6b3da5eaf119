import assert from "node:assert/strict";
import {
  checkSymbol,
  hourStartUs,
  journalDir,
  manifestPath,
  parquetFileName,
  parquetPath,
  parseParquetPath,
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

Deno.test("relativeParquetPath() builds the hive layout of the contract", () => {
  const rel = relativeParquetPath({
    market: "usdm",
    table: "depth_updates",
    symbol: "BTCUSDT",
    firstLocalUs: LAST_US,
    seq: 7,
  });
  assert.equal(rel, `usdm/depth_updates/date=2024-02-29/symbol=BTCUSDT/part-23-${LAST_US}-000007.parquet`);
  assert.equal(
    parquetPath("/data/", {
      market: "usdm",
      table: "depth_updates",
      symbol: "BTCUSDT",
      firstLocalUs: LAST_US,
      seq: 7,
    }),
    `/data/${rel}`,
  );
});

Deno.test("parquetFileName() sorts by time, then sequence", () => {
  const times = [5, 1_000_000, LAST_US - 3_600_000_000, LAST_US, LAST_US];
  const names = times.map((t, i) => parquetFileName(t, i === 4 ? 12 : 3));
  assert.deepEqual(names.toSorted(), names);
  assert.equal(new Set(names).size, names.length);
  assert.throws(() => parquetFileName(-1, 0), RangeError);
  assert.throws(() => parquetFileName(1.5, 0), RangeError);
});

Deno.test("parseParquetPath() inverts relativeParquetPath(), unicode symbols included", () => {
  const key = { market: "spot", table: "trades", symbol: "测试USDT", firstLocalUs: LAST_US, seq: 0 } as const;
  const parsed = parseParquetPath(relativeParquetPath(key));
  assert.deepEqual(parsed, {
    market: "spot",
    table: "trades",
    symbol: "测试USDT",
    date: "2024-02-29",
    file: parquetFileName(LAST_US, 0),
  });
  assert.equal(parseParquetPath("spot/trades/date=2024-02-29/symbol=BTCUSDT/x.json"), null);
  assert.equal(parseParquetPath("coin/trades/date=2024-02-29/symbol=BTCUSDT/x.parquet"), null);
  assert.equal(parseParquetPath("spot/trade/date=2024-02-29/symbol=BTCUSDT/x.parquet"), null);
  assert.equal(parseParquetPath("_journal/00.wal"), null);
});

Deno.test("checkSymbol() rejects lower case and path separators", () => {
  checkSymbol("BTCUSDT");
  checkSymbol("测试USDT");
  for (const bad of ["btcusdt", "", "..", "BTC/USDT", "BTC\\USDT"]) {
    assert.throws(() => checkSymbol(bad), RangeError);
  }
});

Deno.test("journalDir() and manifestPath() sit under data_dir", () => {
  assert.equal(journalDir("data"), "data/_journal");
  assert.equal(manifestPath("/srv/data"), "/srv/data/_manifest/checksums.json");
});
