import assert from "node:assert/strict";
import { warmMergePath } from "../../lib/storage/merge_warmup.ts";
import { TABLES } from "../../lib/storage/tables.ts";

Deno.test("warmMergePath encodes and decodes rows of every table, round after round, letting others go first", async () => {
  const tables = Object.keys(TABLES).length;
  let turns = 0;
  const decoded = await warmMergePath({ rows: 300, rounds: 2, turn: () => Promise.resolve(void turns++) });
  // Every generated row came back through parquet-wasm's reader and the merge's appender.
  assert.equal(decoded, 300 * tables * 2);
  assert.equal(turns, tables * 2);
});
