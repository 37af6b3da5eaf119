/**
 * The short chaos run: a few seeded scenarios of random simulator faults while main.ts is killed (SIGKILL) or
 * stopped (SIGTERM) at random moments and restarted; afterwards every true message is in Parquet exactly once
 * or inside a gap row of its stream, every book snapshot is the true book, and `verify` is clean. The long run
 * is `deno task chaos --minutes N` (README).
 */
import assert from "node:assert/strict";
import { bad, runScenario } from "../../tools/chaos/runner.ts";
import { makeScenario } from "../../tools/chaos/scenario.ts";
import { HEADER, row, totals } from "../../tools/chaos.ts";

for (const seed of [101, 102, 103]) {
  Deno.test(`chaos: seed ${seed}, 25 s of faults, kills and stops: nothing missing outside a gap row`, async () => {
    const scenario = makeScenario(seed, 25_000);
    assert.ok(scenario.steps.some((s) => s.kind === "stop"), "the scenario stops the collector");
    const r = await runScenario(scenario);
    console.log(`${HEADER}\n${row(r)}`);
    for (const t of r.tallies) for (const e of t.examples) console.log(`  ${t.market} ${t.what}: ${e}`);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.verifyProblems, []);
    const t = totals(r);
    assert.ok(t.compared > 5000, `rows compared: ${t.compared}`);
    for (const x of r.tallies) {
      assert.equal(
        x.missingOutsideGaps,
        0,
        `${x.market} ${x.what}: missing outside gaps: ${x.examples.join("; ")}`,
      );
      assert.equal(x.duplicates, 0, `${x.market} ${x.what}: duplicates: ${x.examples.join("; ")}`);
      assert.equal(x.wrong, 0, `${x.market} ${x.what}: wrong values: ${x.examples.join("; ")}`);
    }
    assert.equal(bad(r), false);
    // Each kind of message was actually compared.
    for (const what of ["trades", "depth diffs", "book snapshots", "book tickers"]) {
      for (const market of ["spot", "usdm"]) {
        const x = r.tallies.find((y) => y.market === market && y.what === what)!;
        assert.ok(x.written > 0, `${market} ${what} were written`);
      }
    }
  });
}
