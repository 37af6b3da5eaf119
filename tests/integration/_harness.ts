/**
 * Test harness: runs the real collector assembly against the simulator on loopback, then reads back what it
 * wrote, through the manifest, as plain rows.
 */
import * as arrow from "apache-arrow";
import { type App, startApp } from "../../lib/app.ts";
import type { Market } from "../../lib/binance/types.ts";
import { type Config, parseConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/log.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { readParquet } from "../../lib/storage/parquet_file.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";

export type Sim = Awaited<ReturnType<typeof startSimulator>>;

/** A plain row: int64 and timestamps as numbers (µs for timestamps), lists as arrays. */
export type PlainRow<N extends TableName> = Row<N> & Record<string, unknown>;

/** Reads every Parquet file of (market, table) listed in the manifest, in file-name (time) order. */
export async function readRows<N extends TableName>(
  dataDir: string,
  market: Market,
  table: N,
): Promise<PlainRow<N>[]> {
  const manifest = await Manifest.load(dataDir);
  const out: PlainRow<N>[] = [];
  const files = manifest.entries().filter((e) => e.market === market && e.table === table);
  files.sort((a, b) => (fileName(a.path) < fileName(b.path) ? -1 : 1));
  for (const e of files) out.push(...toRows<N>(await readParquet(`${dataDir}/${e.path}`)));
  return out;
}

function fileName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Arrow table → plain rows with exact µs timestamps (arrow-js would give float milliseconds). */
export function toRows<N extends TableName>(t: arrow.Table): PlainRow<N>[] {
  const rows: Record<string, unknown>[] = Array.from({ length: t.numRows }, () => ({}));
  for (const field of t.schema.fields) {
    const vec = t.getChild(field.name)!;
    let base = 0;
    for (const data of vec.data) {
      const chunk = new arrow.Vector([data]);
      for (let j = 0; j < data.length; j++) {
        let v: unknown = chunk.get(j);
        if (v !== null) {
          if (arrow.DataType.isTimestamp(field.type)) {
            v = Number((data.values as BigInt64Array)[data.offset + j]!);
          } else if (typeof v === "bigint") v = Number(v);
          else if (v instanceof arrow.Vector) v = Array.from(v.toArray() as Float64Array);
        }
        rows[base + j]![field.name] = v;
      }
      base += data.length;
    }
  }
  return rows as PlainRow<N>[];
}

/** Options of {@link runCollector}. */
export interface RunOptions {
  symbols?: string[];
  spotStreams?: string[];
  usdmStreams?: string[];
  usdm?: boolean;
  extraYaml?: string;
  rotateLeadMs?: number;
  onGap?: (market: Market, gap: Row<"gaps">) => void;
  restTimeoutMs?: number;
}

/** A config for the simulator's URLs and a temp data dir. */
export function simConfig(sim: Sim, dataDir: string, o: RunOptions = {}): Config {
  const symbols = o.symbols ?? ["BTCUSDT", "ETHUSDT"];
  const yaml = `
symbols: [${symbols.join(", ")}]
data_dir: ${JSON.stringify(dataDir)}
flush_interval: 1
orderbook_depth: 1000
orderbook_top_levels: 10
use_futures: ${o.usdm ?? true}
${o.extraYaml ?? ""}
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
    streams: [${(o.spotStreams ?? ["depth@100ms", "aggTrade", "kline_1s", "bookTicker"]).join(", ")}]
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
    streams: [${
    (o.usdmStreams ?? ["depth@100ms", "aggTrade", "kline_1m", "bookTicker", "forceOrder", "markPrice@1s"])
      .join(", ")
  }]
`;
  return parseConfig(yaml, "test.yaml");
}

/** Starts the collector on the simulator; the caller stops it. */
export async function startCollector(sim: Sim, dataDir: string, o: RunOptions = {}): Promise<App> {
  return await startApp(simConfig(sim, dataDir, o), silentLogger, {
    rotateLeadMs: o.rotateLeadMs,
    onGap: o.onGap,
    restTimeoutMs: o.restTimeoutMs,
  });
}

/** Resolves when `cond` holds (polled), or rejects after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
