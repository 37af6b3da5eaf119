import assert from "node:assert/strict";
import { join } from "node:path";
import { Rclone } from "../../lib/cloud/rclone.ts";
import { heartbeatFile, manifestFile } from "../../lib/fleet/files.ts";
import { FleetReadError, readFleet } from "../../lib/fleet/read.ts";
import { DATE, DAY_MS, entry, gapRow, heartbeat, NOW_MS, shardManifest, writeGapFile } from "./_fixtures.ts";

async function put(root: string, rel: string, doc: unknown): Promise<void> {
  await Deno.mkdir(join(root, "_fleet"), { recursive: true });
  await Deno.writeTextFile(join(root, rel), typeof doc === "string" ? doc : JSON.stringify(doc));
}

Deno.test("readFleet(): heartbeats, manifests and every shard's gap files of the day (and the day before) from the remote", async () => {
  const remote = await Deno.makeTempDir({ prefix: "fleet_remote_" });
  try {
    await put(remote, heartbeatFile("s0"), heartbeat(0, { symbols: { spot: ["BTCUSDT"] } }));
    await put(
      remote,
      heartbeatFile("s1"),
      heartbeat(1, { atMs: NOW_MS - 3_600_000, symbols: { spot: ["ETHUSDT"] } }),
    );
    await put(remote, manifestFile("s0"), shardManifest("s0", [entry("s0", "spot", "trades", 2, 40)]));
    await put(remote, manifestFile("s1"), shardManifest("s1", [entry("s1", "spot", "trades", 3, 2)]));
    // A heartbeat that another version wrote, and one filed under the wrong name: problems, not a failure.
    await put(remote, heartbeatFile("s2"), { ...heartbeat(2), format: 7 });
    await put(remote, heartbeatFile("s3"), heartbeat(4));
    await put(remote, "_fleet/README.txt", "not a fleet file");
    await writeGapFile(remote, "spot", "s0", [
      gapRow("BTCUSDT", "aggTrade", "disconnect", 10, 2),
      gapRow("BTCUSDT", "depth@100ms", "sequence", 11, 1),
    ]);
    // The same rows in the part file that the compacted one above replaced: counted once.
    await writeGapFile(
      remote,
      "spot",
      "s0",
      [gapRow("BTCUSDT", "aggTrade", "disconnect", 10, 2)],
      "11111111",
    );
    await writeGapFile(remote, "spot", "s1", [gapRow("ETHUSDT", "aggTrade", "stale", 60 * 12, 5)]);
    // The day before: its last gap runs 3 minutes into the day.
    await writeGapFile(remote, "usdm", null, [gapRow("SOLUSDT", "aggTrade", "disconnect", -2, 5)]);
    // Two days before: not read.
    await writeGapFile(remote, "usdm", null, [gapRow("SOLUSDT", "aggTrade", "disconnect", -24 * 60 - 60, 1)]);
    // A gap file that is not Parquet.
    const broken = `spot/gaps/date=${DATE}/hour-05-${(DAY_MS + 5 * 3_600_000) * 1000}-22222222.s1.parquet`;
    await Deno.writeTextFile(join(remote, broken), "PAR1 but not really");
    // A data file, never downloaded.
    await Deno.mkdir(join(remote, "spot/trades/date=2026-03-01"), { recursive: true });
    await Deno.writeTextFile(join(remote, "spot/trades/date=2026-03-01/x.parquet"), "x");

    const summary = await readFleet({
      rclone: new Rclone(),
      remote,
      date: DATE,
      nowMs: NOW_MS,
      silentAfterMs: 900_000,
    });
    assert.deepEqual(
      summary.shards.map((s) => [s.shard, s.state, s.files, s.rows, s.gaps]),
      [["s1", "silent", 1, 2, 1], ["main", "unknown", 0, 0, 1], ["s0", "live", 1, 40, 2]],
    );
    assert.deepEqual(summary.markets, [{ market: "spot", symbols: 2, notRecorded: 1, underReplicated: 0 }]);
    assert.equal(summary.gaps.count, 4);
    assert.equal(summary.gaps.missingSeconds, (2 + 1 + 5 + 3) * 60);
    assert.deepEqual(
      summary.gaps.worst.map((g) => [g.market, g.symbol, g.count, g.seconds, g.shards.join()]),
      [
        ["spot", "ETHUSDT", 1, 300, "s1"],
        ["spot", "BTCUSDT", 2, 180, "s0"],
        ["usdm", "SOLUSDT", 1, 180, "main"],
      ],
    );
    assert.equal(summary.problems.length, 3, summary.problems.join("\n"));
    assert.match(summary.problems[0]!, /^Cannot read _fleet\/s2\.json: format 7, this build reads 1$/);
    assert.match(summary.problems[1]!, /^Cannot read _fleet\/s3\.json: it names shard 's4'$/);
    assert.match(summary.problems[2]!, /^Cannot read spot\/gaps\/date=2026-03-01\/hour-05-.*\.s1\.parquet: /);
  } finally {
    await Deno.remove(remote, { recursive: true });
  }
});

Deno.test("readFleet(): a remote that does not exist is a FleetReadError naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fleet_remote_" });
  try {
    const remote = join(dir, "missing");
    const err = await readFleet({ rclone: new Rclone(), remote, date: DATE, nowMs: NOW_MS, silentAfterMs: 1 })
      .then(() => null, (e) => e);
    assert.ok(err instanceof FleetReadError, String(err));
    assert.match(err.message, new RegExp(`^Cannot read the fleet at ${remote}: rclone copy exited with 3`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
