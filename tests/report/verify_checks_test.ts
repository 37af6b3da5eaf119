import assert from "node:assert/strict";
import { summarizeGaps } from "../../lib/report/gaps.ts";
import {
  checkFile,
  compareListings,
  type FileFacts,
  formatVerifyReport,
  partitionMismatch,
} from "../../lib/report/verify_checks.ts";
import type { ManifestEntry } from "../../lib/storage/manifest.ts";

const PATH = "spot/trades/date=2024-01-02/part-05-1704171600000000-000001.parquet";

const entry: ManifestEntry = {
  path: PATH,
  sha256: "ab".repeat(32),
  rows: 10,
  bytes: 1234,
  first_local_time: "2024-01-02T05:00:00.000000Z",
  last_local_time: "2024-01-02T05:59:59.999999Z",
  market: "spot",
  table: "trades",
};
const good: FileFacts = {
  readable: true,
  sha256: entry.sha256,
  bytes: 1234,
  rows: 10,
  firstTime: entry.first_local_time,
  lastTime: entry.last_local_time,
};

Deno.test("partitionMismatch() checks the date, the file name's hour and the one-hour span", () => {
  const cases: [string, string, string, RegExp | null][] = [
    [PATH, "2024-01-02T05:00:00.000000Z", "2024-01-02T05:59:59.999999Z", null],
    [PATH, "2024-01-03T05:00:00.000000Z", "2024-01-03T05:10:00.000000Z", /outside date=2024-01-02/],
    [PATH, "2024-01-02T05:00:00.000000Z", "2024-01-02T06:00:00.000000Z", /span two UTC hours/],
    [PATH, "2024-01-02T04:00:00.000000Z", "2024-01-02T04:10:00.000000Z", /outside hour 05/],
    [
      "spot/trades/date=2024-01-02/hour-05-1704171600000000-0a1b2c3d.parquet",
      "2024-01-02T04:00:00.000000Z",
      "2024-01-02T04:10:00.000000Z",
      /outside hour 05/,
    ],
    // A name without an hour is checked by date and span only.
    [
      "spot/trades/date=2024-01-02/merged.parquet",
      "2024-01-02T04:00:00.000000Z",
      "2024-01-02T04:10:00.000000Z",
      null,
    ],
    [
      "spot/trades/BTCUSDT.parquet",
      "2024-01-02T04:00:00.000000Z",
      "2024-01-02T04:10:00.000000Z",
      /not a Parquet path/,
    ],
    // A file of the 0.3 layout is named with what rewrites it.
    [
      "spot/trades/date=2024-01-02/symbol=BTCUSDT/part-05-1704171600000000-000001.parquet",
      "2024-01-02T05:00:00.000000Z",
      "2024-01-02T05:10:00.000000Z",
      /0\.3 layout .*deno task migrate/,
    ],
  ];
  for (const [path, first, last, want] of cases) {
    const got = partitionMismatch(path, first, last);
    if (want === null) assert.equal(got, null, path);
    else assert.match(got ?? "", want, path);
  }
});

Deno.test("checkFile() reports each mismatch of a file against its entry", () => {
  assert.deepEqual(checkFile(entry, good), []);
  const kinds = (facts: FileFacts) => checkFile(entry, facts).map((p) => p.kind);
  assert.deepEqual(kinds({ ...good, sha256: "cd".repeat(32) }), ["sha256"]);
  assert.deepEqual(kinds({ ...good, bytes: 1, rows: 11 }), ["bytes", "rows"]);
  assert.deepEqual(kinds({ ...good, lastTime: "2024-01-02T06:00:00.000000Z" }), ["range", "partition"]);
  const broken = checkFile(entry, {
    readable: false,
    sha256: "cd".repeat(32),
    bytes: 1234,
    error: "bad magic",
  });
  assert.deepEqual(broken.map((p) => [p.kind, p.path]), [["sha256", PATH], ["unreadable", PATH]]);
  assert.equal(broken[1]!.detail, "bad magic");
});

Deno.test("compareListings() finds missing and unlisted files", () => {
  assert.deepEqual(compareListings(["a", "b"], ["b", "c"]).map((p) => [p.kind, p.path]), [["missing", "a"], [
    "unlisted",
    "c",
  ]]);
  assert.deepEqual(compareListings(["a"], ["a"]), []);
});

Deno.test("formatVerifyReport() names every problem's file and ends with the verdict", () => {
  const ok = formatVerifyReport({
    dataDir: "data",
    listed: 1,
    found: 1,
    checked: 1,
    problems: [],
    gapSource: "parquet",
    gaps: summarizeGaps([]),
  });
  assert.equal(
    ok,
    "verify data\nfiles: 1 in manifest, 1 on disk, 1 ok\ngaps (parquet): 0, 0 unrecovered, 0s\nOK\n",
  );
  const bad = formatVerifyReport({
    dataDir: "data",
    listed: 2,
    found: 2,
    checked: 1,
    problems: [...checkFile(entry, { ...good, sha256: "00".repeat(32) }), {
      path: "x.parquet",
      kind: "unlisted",
      detail: "on disk, not in the manifest",
    }],
    gapSource: "ledger",
    gaps: summarizeGaps([]),
  });
  assert.match(bad, /files: 2 in manifest, 2 on disk, 0 ok\n/);
  assert.match(bad, new RegExp(`\nSHA256 +${PATH}\n +manifest ab`));
  assert.match(bad, /\nUNLISTED +x\.parquet\n/);
  assert.match(bad, /\nFAILED: 2 problems in 2 files\n$/);
});
