/**
 * The hourly compaction through the real entry point: `main.ts` started on a data directory whose finished hour
 * was left in several part files (a run stopped before minute 15) merges them at start-up in a child process
 * of its own, while it records, into one `hour-HH` file sorted by symbol that `verify` accepts; no temp file is
 * left behind. The Parquet worker that encodes the flushes runs below the main thread's priority.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyDataDir } from "../../lib/report/verify.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { readParquet } from "../../lib/storage/parquet_file.ts";
import { toRows } from "../../lib/storage/read_rows.ts";
import { BACKGROUND_NICE } from "../../lib/thread_priority.ts";
import { startMain, startTaskEnv, startTaskFlags } from "../_main_process.ts";
import { threadsOf } from "../_threads.ts";
import { walk, writeFinishedHour } from "./_finished_hour.ts";
import { writeUsdmProcessConfig } from "./_harness.ts";

const SYMBOLS = ["ETHUSDT", "BTCUSDT", "SOLUSDT"];

Deno.test("compaction (main.ts process): an earlier hour's part files become one hour file at start-up", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "compact-main-" });
  // Three flushes of trades in the hour that started three hours ago: three part files, every symbol in each.
  const flush = SYMBOLS.flatMap((symbol) => Array<string>(50).fill(symbol));
  const { hourUs, hourDir, files } = await writeFinishedHour(dataDir, [flush, flush, flush]);
  assert.equal(files, 3);

  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 5, tickMs: 20 });
  const configPath = await writeUsdmProcessConfig(dataDir, sim);
  // With the `start` task's permissions, which must let the collector start its merge child.
  const main = startMain([configPath], { denoFlags: startTaskFlags(), env: startTaskEnv() });
  try {
    const line = await main.waitForLog(/compacted target="(usdm\/trades\/[^"]+)" sources=3 rows=450/, 60_000);
    // Merged by a child process, not by the collector's own.
    const child = /merged in a child process target="([^"]+)" pid=(\d+)/.exec(main.log);
    assert.ok(child, main.tail());
    assert.equal(child[1], line[1]);
    assert.notEqual(Number(child[2]), main.child.pid);
    // Recording went on meanwhile: flushes after the merge.
    await main.waitForLog(/flushed reason="interval"/, 30_000, main.count(/flushed reason="interval"/) + 1);
    if (Deno.build.os === "linux") {
      // The worker that encoded that flush runs below the feed's priority.
      const threads = await threadsOf(main.child.pid);
      assert.equal(threads.find((t) => t.tid === main.child.pid)!.nice, 0, "the main thread");
      assert.deepEqual(
        threads.filter((t) => /^worker-\d+$/.test(t.name)).map((t) => t.nice),
        [BACKGROUND_NICE],
        "the Parquet worker",
      );
    }
    assert.equal((await main.stop("SIGTERM")).code, 0, main.tail());
    const target = line[1]!;
    assert.match(target, new RegExp(`^${hourDir}/hour-\\d\\d-`));
    // Today's live rows may share the date partition; the old hour's files are its part files and the merge.
    const hh = String(new Date(hourUs / 1000).getUTCHours()).padStart(2, "0");
    assert.deepEqual(
      walk(join(dataDir, hourDir)).filter((n) => n.startsWith(`part-${hh}-`) || n.startsWith(`hour-${hh}-`)),
      [target.split("/").at(-1)],
      "one file for the hour",
    );
    const rows = toRows<"trades">(await readParquet(join(dataDir, target)));
    assert.equal(rows.length, 450);
    assert.deepEqual(rows.map((r) => r.symbol), [...rows.map((r) => r.symbol)].sort(), "sorted by symbol");
    const btc = rows.filter((r) => r.symbol === "BTCUSDT").map((r) => r.agg_trade_id);
    assert.deepEqual(btc, [...btc].sort((a, b) => a - b), "each symbol's rows in the order recorded");
    assert.deepEqual(walk(dataDir).filter((p) => /\.tmp-[0-9a-f]{16}$/.test(p)), [], "no temp file left");
    const verified = await verifyDataDir(dataDir);
    assert.deepEqual(verified.problems, []);
  } finally {
    if (main.running) await main.stop("SIGKILL");
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath).catch(() => {});
  }
});
