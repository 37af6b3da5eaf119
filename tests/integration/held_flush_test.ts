/**
 * A flush copies the state over several turns of the event loop while the records after its FlushMark wait in
 * the pacer. Against the simulator, with one stream copied per turn so that frames arrive in between: every
 * journaled checkpoint is the state as of its FlushMark (what recovery replays from), and what was written is
 * the exchange's truth.
 */
import assert from "node:assert/strict";
import { startApp } from "../../lib/app.ts";
import type { Market } from "../../lib/binance/markets.ts";
import { RecordKind } from "../../lib/pipeline/records.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { journalDir } from "../../lib/storage/layout.ts";
import { readSegments } from "../../lib/storage/journal_reader.ts";
import { checkBooks, checkTrades, readWritten } from "./_checks.ts";
import { simConfig, sleep, waitFor } from "./_harness.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"];

/**
 * Reads the journal and compares each Checkpoint's `lastFrameUs` with the arrival time of the last frame of its
 * market journaled before its FlushMark: equal when no record after the FlushMark reached the normalizer before
 * the state was copied. Returns the checkpoints compared (their FlushMark read too).
 */
async function checkCheckpoints(dir: string, seen: Set<string>): Promise<number> {
  const lastFrame = new Map<Market, number>();
  const atMark = new Map<string, number>();
  try {
    for await (const e of readSegments(dir)) {
      if (e.kind === RecordKind.Frame) lastFrame.set(e.market, e.localUs);
      else if (e.kind === RecordKind.FlushMark) {
        atMark.set(`${e.segment}:${e.offset}`, lastFrame.get(e.market) ?? NaN);
      } else if (e.kind === RecordKind.Checkpoint) {
        const state = JSON.parse(e.text) as {
          asOf: { segment: number; offset: number };
          lastFrameUs: number | null;
        };
        const key = `${state.asOf.segment}:${state.asOf.offset}`;
        const expected = atMark.get(key);
        if (expected === undefined || Number.isNaN(expected)) continue;
        assert.equal(
          state.lastFrameUs,
          expected,
          `${e.market} checkpoint at ${key}: the state as of its FlushMark`,
        );
        seen.add(`${e.market}@${key}`);
      }
    }
  } catch (err) {
    // A segment removed by the flush's pruning between the listing and the read: the next pass reads on.
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return seen.size;
}

Deno.test("flush: records wait while the state is copied over several turns; each checkpoint is as of its FlushMark", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "collector-held-" });
  const sim = await startSimulator({ symbols: SYMBOLS, seed: 5, tickMs: 5, truth: true });
  const held: number[] = [];
  try {
    const app = await startApp(simConfig(sim, dataDir, { symbols: SYMBOLS }), (_level, message, fields) => {
      if (message === "flushed" && fields?.reason === "interval") held.push(Number(fields.held));
    }, { captureSliceMs: 0 });
    const seen = new Set<string>();
    try {
      await waitFor(
        "books synced",
        () =>
          app.collector.status().every((m) =>
            m.books.length === SYMBOLS.length && m.books.every((b) => b.state === "synced")
          ),
      );
      const end = Date.now() + 5000;
      while (Date.now() < end) {
        await checkCheckpoints(journalDir(dataDir), seen);
        await sleep(250);
      }
    } finally {
      await app.stop();
    }
    assert.ok(seen.size >= 6, `checkpoints compared with their FlushMarks: ${[...seen].join(" ")}`);
    assert.ok(
      held.some((n) => n > 0),
      `frames arrived while a flush copied the state (records held per flush: ${held.join(", ")})`,
    );
    for (const market of ["spot", "usdm"] as Market[]) {
      const w = await readWritten(dataDir, market);
      for (const symbol of SYMBOLS) {
        assert.ok(checkTrades(sim, market, symbol, w) > 10, `${market} ${symbol}: trades`);
        checkBooks(sim, market, symbol, w, 10);
      }
      assert.deepEqual(w.gaps.map((g) => `${g.symbol} ${g.stream} ${g.kind}`), [], `${market}: no gap`);
    }
  } finally {
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
