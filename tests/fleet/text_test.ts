import assert from "node:assert/strict";
import { FleetAccumulator, type FleetSummary } from "../../lib/fleet/summary.ts";
import { fmtAge, formatFleetReport } from "../../lib/fleet/text.ts";
import { DATE, entry, gapRow, heartbeat, NOW_MS, shardManifest } from "./_fixtures.ts";

const MIN = 60_000;

function small(): FleetSummary {
  const acc = new FleetAccumulator(DATE, NOW_MS, 15 * MIN);
  acc.addHeartbeat(
    heartbeat(0, { symbols: { spot: ["BTCUSDT", "ETHUSDT"] }, books: { synced: 2, total: 2 } }),
  );
  acc.addHeartbeat(
    heartbeat(1, { atMs: NOW_MS - 17 * MIN, symbols: { spot: ["SOLUSDT"] }, books: { synced: 1, total: 1 } }),
  );
  acc.addManifest(shardManifest("s0", [entry("s0", "spot", "trades", 0, 1200, { minutes: 30 })]));
  acc.addManifest(
    shardManifest("s1", [entry("s1", "spot", "trades", 1, 300), entry("s1", "spot", "gaps", 1, 1)]),
  );
  acc.addGap("s1", "spot", gapRow("SOLUSDT", "aggTrade", "disconnect", 61, 2));
  acc.addProblem("Cannot read _fleet/s5.json: invalid JSON");
  return acc.summary();
}

Deno.test("formatFleetReport(): totals, the silent shard, gaps, shards and files, as the CLI prints them", () => {
  assert.equal(
    formatFleetReport(small()),
    `Fleet 2026-03-01 (UTC) at 12:00
Shards 2: 1 live, 1 silent
⚠️ Silent over 15m: s1
Symbols
 spot       3, 1 not recorded now

Gaps 1, 2m 0s missing
 disconnect       1  2m 0s
Symbols with gaps
 symbol               gaps  missing
 spot SOLUSDT            1    2m 0s
   aggTrade s1

Shard   state    beat   sym upload
!s1     silent    17m     1    30m
   vm-1 0.4.0 100/s books 1/1
   last heard 11:43:00
   day: 2 files, 301 rows, 1 gaps
 s0     live       1m     2    30m
   vm-0 0.4.0 100/s books 2/2
   day: 1 files, 1.20k rows, 0 gaps

Files 3, 1.50k rows, 14.7 KiB
Table           files   rows first-last
spot
 gaps               1      1 01:00-01:59
 trades             2  1.50k 00:00-01:59

Unreadable files: 1
Cannot read _fleet/s5.json: invalid JSON
`,
  );
});

Deno.test("formatFleetReport(): on a phone, 2,000 symbols on 40 shards fit 40-character lines and one message", () => {
  const acc = new FleetAccumulator(DATE, NOW_MS, 15 * MIN);
  const symbols = Array.from({ length: 2000 }, (_, i) => `SYM${i}USDT`);
  for (let i = 0; i < 40; i++) {
    const mine = symbols.filter((_, j) => j % 40 === i);
    const state = i === 33
      ? { atMs: NOW_MS - 90 * MIN }
      : i === 7
      ? { atMs: NOW_MS - 5 * MIN, stoppedAtMs: NOW_MS - 5 * MIN }
      : {};
    acc.addHeartbeat(
      heartbeat(i, { count: 40, symbols: { spot: mine.slice(0, 38), usdm: mine.slice(38) }, ...state }),
    );
    acc.addManifest(shardManifest(`s${i}`, [entry(`s${i}`, "spot", "trades", 0, 100_000)]));
  }
  for (let j = 0; j < 500; j++) {
    acc.addGap(`s${j % 40}`, "spot", gapRow(symbols[j]!, "aggTrade", "stale", j, 1 + j % 9));
  }
  const text = formatFleetReport(acc.summary(), { maxShards: 12, maxSymbols: 10, details: false });
  const lines = text.trimEnd().split("\n");
  for (const line of lines) assert.ok(line.length <= 40, `too wide: '${line}'`);
  assert.ok(text.length < 3000, `${text.length} characters`);
  assert.ok(lines.includes("⚠️ Silent over 15m: s33"));
  assert.ok(lines.includes(" spot   1.52k, 76 not recorded now"), text);
  assert.ok(lines.includes(" usdm     480, 24 not recorded now"), text);
  assert.ok(lines.includes("Worst symbols: 10 of 500 with gaps"), text);
  // The worst first: 9 minutes of gap (j % 9 == 8), then by count and name.
  assert.equal(
    lines[lines.indexOf("Worst symbols: 10 of 500 with gaps") + 2],
    " spot SYM107USDT         1    9m 0s",
  );
  // Shards not live are listed (with details) whatever the limit, live ones up to it.
  const shardRows = lines.filter((l) => /^[ !]s\d+ /.test(l));
  assert.deepEqual(shardRows.slice(0, 2).map((l) => l.split(/\s+/).slice(0, 2).join(" ")), [
    "!s33 silent",
    "!s7 stopped",
  ]);
  assert.equal(shardRows.length, 12);
  assert.equal(shardRows[2]!.split(/\s+/)[1], "s0");
  assert.equal(shardRows[3]!.split(/\s+/)[1], "s1");
  assert.equal(shardRows[4]!.split(/\s+/)[1], "s2", "natural order: s2 before s10");
  assert.ok(lines.includes("… 28 more live shards"));
  assert.ok(lines.includes("   last heard 10:30:00"), "a silent shard says when it was last heard");
  assert.equal(
    lines.filter((l) => l.startsWith("   vm-")).length,
    2,
    "no host lines for live shards on a phone",
  );
});

Deno.test("formatFleetReport(): an empty remote says no shard published and no files", () => {
  const text = formatFleetReport(new FleetAccumulator(DATE, NOW_MS, MIN).summary());
  assert.match(text, /^Fleet 2026-03-01 \(UTC\) at 12:00\n⚠️ No shard has published a heartbeat\n/);
  assert.match(text, /\n⚠️ No files of this day in the manifests\n/);
  assert.match(text, /\nGaps 0, 0s missing\n/);
});

Deno.test("fmtAge(): seconds, minutes, hours up to two days, then days", () => {
  assert.deepEqual([0, 59_999, 60_000, 3_599_999, 3_600_000, 47 * 3_600_000, 49 * 3_600_000].map(fmtAge), [
    "0s",
    "59s",
    "1m",
    "59m",
    "1h",
    "47h",
    "2d",
  ]);
});
