/**
 * The compaction's merge child when the collector is killed (`kill -9`) in the middle of a merge: the child sees
 * its stdin end and exits without writing the hour's file, and the next start merges the hour again, in a new
 * child, into one file that `verify` accepts, with every row once and no temp file left. Linux only (the
 * processes are read from /proc).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyDataDir } from "../../lib/report/verify.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { readParquet } from "../../lib/storage/parquet_file.ts";
import { startMain, startTaskEnv, startTaskFlags } from "../_main_process.ts";
import { childrenOf, isRunning } from "../_threads.ts";
import { walk, writeFinishedHour } from "./_finished_hour.ts";
import { writeUsdmProcessConfig } from "./_harness.ts";

const SYMBOLS = Array.from({ length: 200 }, (_, k) => `S${k}USDT`);
const ROWS_PER_FLUSH = 150_000;

Deno.test({
  name:
    "compaction (main.ts process): kill -9 during a merge stops its child; the next start merges the hour",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "compact-kill-" });
    // Three flushes of trades in the hour that started three hours ago: enough rows that the merge takes seconds.
    const flush = Array.from({ length: ROWS_PER_FLUSH }, (_, k) => SYMBOLS[k % SYMBOLS.length]!);
    const { hourUs, hourDir } = await writeFinishedHour(dataDir, [flush, flush, flush]);
    const hh = String(new Date(hourUs / 1000).getUTCHours()).padStart(2, "0");
    const hourFiles = () =>
      walk(join(dataDir, hourDir)).filter((n) => n.startsWith(`part-${hh}-`) || n.startsWith(`hour-${hh}-`));
    const temps = () => walk(dataDir).filter((p) => /\.tmp-[0-9a-f]{16}$/.test(p));

    const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 5, tickMs: 20 });
    const configPath = await writeUsdmProcessConfig(dataDir, sim);
    const options = { denoFlags: startTaskFlags(), env: startTaskEnv() };
    let main = startMain([configPath], options);
    try {
      // The start-up merge's child, as soon as it runs (it has its request; it may not have begun writing).
      let child: number | undefined;
      for (let i = 0; i < 2400 && child === undefined; i++) {
        await new Promise((r) => setTimeout(r, 10));
        child = (await childrenOf(main.child.pid)).find((c) => c.cmdline.includes("merge_child"))?.pid;
      }
      assert.ok(child, `no merge child:\n${main.tail()}`);
      await main.stop("SIGKILL");
      for (let i = 0; i < 600 && await isRunning(child); i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(await isRunning(child), false, "the child outlived the collector");
      assert.equal(hourFiles().filter((n) => n.startsWith("hour-")).length, 0, "no hour file from the child");

      main = startMain([configPath], options);
      const line = await main.waitForLog(
        new RegExp(`compacted target="(usdm/trades/[^"]+)" sources=3 rows=${3 * ROWS_PER_FLUSH}`),
        120_000,
      );
      assert.match(main.log, /merged in a child process/);
      assert.equal((await main.stop("SIGTERM")).code, 0, main.tail());
      assert.deepEqual(hourFiles(), [line[1]!.split("/").at(-1)], "one file for the hour");
      assert.equal((await readParquet(join(dataDir, line[1]!))).numRows, 3 * ROWS_PER_FLUSH);
      assert.deepEqual(temps(), [], "no temp file left");
      assert.deepEqual((await verifyDataDir(dataDir)).problems, []);
    } finally {
      if (main.running) await main.stop("SIGKILL");
      await sim.close();
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(configPath).catch(() => {});
    }
  },
});
