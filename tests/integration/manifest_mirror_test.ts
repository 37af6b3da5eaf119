/**
 * `checksums.json` is a mirror of the ledger's files for tools without Deno. It is rewritten whole, so it is not
 * rewritten at every flush (after months that would write more than the data): it is written at recovery, at
 * most every few minutes, and at shutdown, when it equals the ledger again.
 */
import assert from "node:assert/strict";
import { openLedger } from "../../lib/ledger/open.ts";
import { verifyDataDir } from "../../lib/report/verify.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { startCollector, waitFor } from "./_harness.ts";

Deno.test("collector: checksums.json is mirrored at start and stop, not at every flush; stop flushes last", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "collector-mirror-" });
  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 19, tickMs: 10 });
  try {
    const app = await startCollector(sim, dataDir, { symbols: ["BTCUSDT"], usdm: false });
    let duringRun: { mirrored: number; committed: number };
    try {
      const mirroredAtStart = (await Manifest.load(dataDir)).size;
      const flushes = app.collector.flushCount;
      await waitFor("three flushes", () => app.collector.flushCount >= flushes + 3);
      duringRun = {
        mirrored: (await Manifest.load(dataDir)).size,
        committed: (await app.ledger.listFiles()).length,
      };
      assert.equal(duringRun.mirrored, mirroredAtStart, "not rewritten by the flushes since the start");
      assert.ok(duringRun.committed > duringRun.mirrored, "the ledger has the files at once");
      assert.equal(app.manifest.size, duringRun.committed, "the in-memory manifest follows the ledger");
      // Stop while a flush runs: that flush took its rows before the Shutdown record, so stop must flush again.
      void app.collector.flush("interval");
    } finally {
      await app.stop();
    }
    const again = await startCollector(sim, dataDir, { symbols: ["BTCUSDT"], usdm: false });
    await again.stop();
    assert.deepEqual(
      [again.recovery.records, again.recovery.crashed],
      [0, false],
      "the last checkpoint is after the Shutdown record: nothing left to replay",
    );
    const verified = (await verifyDataDir(dataDir)).problems.map((p) => `${p.kind} ${p.path}`);
    const mirrored = (await Manifest.load(dataDir)).entries().map((e) => e.path).sort();
    const ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`);
    try {
      const committed = (await ledger.listFiles()).map((e) => e.path).sort();
      assert.deepEqual(mirrored, committed, "equal to the ledger after the stop");
      assert.ok(committed.length > duringRun.committed);
      assert.deepEqual(verified, [], "every file on disk is listed");
    } finally {
      ledger.close();
    }
  } finally {
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
