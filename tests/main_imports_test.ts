/**
 * The collector's main thread loads no Parquet, Arrow or picture library: its Parquet work runs in a worker and
 * the rest loads them when used (a daily picture, a funding file, the fleet report). Imported into a bare Deno
 * process, parquet-wasm adds ~23 MiB of RSS and apache-arrow ~16.
 */
import assert from "node:assert/strict";
import { denoInfo } from "./_deno_info.ts";

const HEAVY = ["npm:/parquet-wasm@", "npm:/apache-arrow@", "npm:/@resvg/resvg-wasm@"];

/** The packages of {@link HEAVY} that `root` imports statically (directly or through other modules). */
async function heavyStaticImports(root: string): Promise<string[]> {
  const info = await denoInfo(root);
  const resolve = (s: string) => info.redirects[s] ?? s;
  const edges = new Map(info.modules.map((m) => [
    m.specifier,
    (m.dependencies ?? []).filter((d) => !d.isDynamic && d.code?.specifier).map((d) =>
      resolve(d.code!.specifier!)
    ),
  ]));
  const start = info.roots[0]!;
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const next of edges.get(queue.shift()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return HEAVY.filter((h) => [...seen].some((s) => s.startsWith(h)));
}

Deno.test("main.ts loads no Parquet, Arrow or picture library at start; the Parquet worker loads them", async () => {
  assert.deepEqual(await heavyStaticImports("main.ts"), []);
  // The check finds them where they are loaded.
  assert.deepEqual(await heavyStaticImports("lib/storage/parquet_worker.ts"), [
    "npm:/parquet-wasm@",
    "npm:/apache-arrow@",
  ]);
});
