/** A real data dir for verify tests: Parquet files and manifest written through the collector's table store. */
import { Manifest } from "../../lib/storage/manifest.ts";
import type { Row } from "../../lib/storage/tables.ts";
import { TableStore } from "../../lib/pipeline/table_store.ts";
import { D, gapRow, M, S } from "../ledger/_sample_ledger.ts";

const H = 60 * M;

function trade(localUs: number, id: number): Row<"trades"> {
  return {
    symbol: "BTCUSDT",
    exchange_time: localUs - 2000,
    trade_time: localUs - 2500,
    local_time: localUs,
    agg_trade_id: id,
    first_trade_id: id * 10,
    last_trade_id: id * 10 + 3,
    price: 42_000.01 + id,
    quantity: 0.001 * id,
    is_buyer_maker: id % 2 === 0,
    source: "ws",
  };
}

/** The gap rows written into the `gaps` table. */
export const GAP_ROWS: Row<"gaps">[] = [
  {
    ...gapRow("BTCUSDT", "aggTrade", "disconnect", D + 10 * M, D + 12 * M),
    last_update_id: 2 ** 40,
    resume_update_id: 2 ** 40 + 7,
  },
  gapRow("BTCUSDT", "aggTrade", "stale", D + H + M, D + H + 2 * M),
];

/**
 * Writes spot BTCUSDT trades in hours 0 and 1 of 2024-01-02 (two flushes in hour 0) and the gap rows: 4 trade
 * files and 2 gap files. Returns the manifest's relative paths.
 */
export async function writeDataDir(dataDir: string): Promise<string[]> {
  const manifest = await Manifest.load(dataDir);
  const store = new TableStore(dataDir, { manifest });
  for (let i = 0; i < 50; i++) store.row("spot", "trades", "BTCUSDT", D + i * S, trade(D + i * S, i));
  await store.flush();
  for (let i = 50; i < 80; i++) store.row("spot", "trades", "BTCUSDT", D + i * S, trade(D + i * S, i));
  for (let i = 80; i < 100; i++) {
    store.row("spot", "trades", "BTCUSDT", D + H + i * S, trade(D + H + i * S, i));
  }
  for (const g of GAP_ROWS) store.row("spot", "gaps", g.symbol, g.start_time, g);
  await store.flush();
  return manifest.entries().map((e) => e.path);
}
