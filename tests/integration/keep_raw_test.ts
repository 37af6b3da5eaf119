/**
 * `keep_raw: true`: journal segments whose rows are committed are kept as gzip archives under `_raw/` instead of
 * being deleted; without it they are deleted. Either way the live segment is never touched.
 */
import assert from "node:assert/strict";
import { startSimulator } from "../../lib/sim/server.ts";
import { listSegments } from "../../lib/storage/journal.ts";
import { sleep, startCollector } from "./_harness.ts";

for (const keepRaw of [true, false]) {
  Deno.test(`keep_raw: ${keepRaw} — committed journal segments are ${keepRaw ? "archived" : "deleted"}`, async () => {
    const sim = await startSimulator({ symbols: ["BTCUSDT"], tickMs: 10 });
    const dataDir = await Deno.makeTempDir({ prefix: "collector-raw-" });
    try {
      const opts = { symbols: ["BTCUSDT"], usdm: false, extraYaml: `keep_raw: ${keepRaw}` };
      for (let run = 0; run < 2; run++) {
        const app = await startCollector(sim, dataDir, opts);
        await sleep(1500);
        await app.stop();
      }
      // Each start opens a new segment; the second start's first commit made segment 1 obsolete.
      const live = await listSegments(`${dataDir}/_journal`);
      assert.deepEqual(live, [2]);
      const archived = await Array.fromAsync(Deno.readDir(`${dataDir}/_raw`)).catch(() => []);
      assert.deepEqual(
        archived.map((e) => e.name).sort(),
        keepRaw ? ["0000000001.wal.gz"] : [],
      );
    } finally {
      await sim.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}
