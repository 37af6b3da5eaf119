/**
 * A data directory whose finished hour was left in part files (a run stopped before the compaction's minute 15),
 * for the tests of the start-up compaction through main.ts.
 */
import { join } from "node:path";
import { TableStore } from "../../lib/pipeline/table_store.ts";
import { Manifest } from "../../lib/storage/manifest.ts";

/** Names under `dir`, recursively, `/`-separated. */
export function walk(dir: string, prefix = ""): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
  );
}

/**
 * Writes USD-M trades of the hour that started three hours ago, one flush (one part file) per entry of
 * `flushes` (at minutes 1, 20, 40, then 43, 44, …), each the symbols of its rows in order; agg trade ids count up across them.
 * Returns the hour's start (µs) and its partition directory (relative to `dataDir`).
 */
export async function writeFinishedHour(
  dataDir: string,
  flushes: string[][],
): Promise<{ hourUs: number; hourDir: string; files: number }> {
  const hourUs = Math.floor(Date.now() / 3_600_000 - 3) * 3_600_000_000;
  const manifest = await Manifest.load(dataDir);
  const store = new TableStore(dataDir, { manifest });
  let id = 0;
  for (const [f, symbols] of flushes.entries()) {
    const minute = [1, 20, 40][f] ?? 40 + f;
    symbols.forEach((symbol, k) => {
      const us = hourUs + minute * 60_000_000 + id;
      store.row("usdm", "trades", symbol, us, {
        symbol,
        exchange_time: us,
        trade_time: us,
        local_time: us,
        agg_trade_id: id++,
        first_trade_id: id,
        last_trade_id: id,
        price: 100 + (k % 97),
        quantity: 1,
        is_buyer_maker: k % 2 === 0,
        source: "ws",
      });
    });
    await store.flush();
  }
  await manifest.save();
  return {
    hourUs,
    hourDir: manifest.entries()[0]!.path.split("/").slice(0, -1).join("/"),
    files: manifest.size,
  };
}
