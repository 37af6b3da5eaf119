/**
 * Test harness: runs the real collector assembly against the simulator on loopback, then reads back what it
 * wrote, through the manifest, as plain rows.
 */
import { type App, startApp } from "../../lib/app.ts";
import type { Market } from "../../lib/binance/types.ts";
import { type Config, parseConfig } from "../../lib/config.ts";
import { silentLogger } from "../../lib/log.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { type PlainRow, readTableRows } from "../../lib/storage/read_rows.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";

export type { PlainRow } from "../../lib/storage/read_rows.ts";

export type Sim = Awaited<ReturnType<typeof startSimulator>>;

/** Reads every Parquet file of (market, table) listed in the manifest, in file-name (time) order. */
export async function readRows<N extends TableName>(
  dataDir: string,
  market: Market,
  table: N,
): Promise<PlainRow<N>[]> {
  return await readTableRows(dataDir, (await Manifest.load(dataDir)).entries(), market, table);
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

/**
 * The head of a config.yaml for a `main.ts` process under test: its data and log directories in `dataDir`, a
 * flush every `flushSec` seconds, no status page. The markets follow.
 */
export function processConfigHead(dataDir: string, flushSec = 2): string {
  return `data_dir: ${JSON.stringify(dataDir)}
log_dir: ${JSON.stringify(`${dataDir}/logs`)}
flush_interval: ${flushSec}
status:
  enabled: false
`;
}

/**
 * Writes `{dataDir}.yaml` for a `main.ts` process recording BTCUSDT's `aggTrade` and `depth@100ms` on USD-M
 * from `sim` (spot off), with `extra` top-level lines, and returns its path.
 */
export async function writeUsdmProcessConfig(
  dataDir: string,
  sim: { usdm: { restUrl: string; wsUrl: string } },
  extra = "",
): Promise<string> {
  const configPath = `${dataDir}.yaml`;
  await Deno.writeTextFile(
    configPath,
    `${processConfigHead(dataDir)}${extra}symbols: [BTCUSDT]
markets:
  spot:
    enabled: false
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
    streams: [aggTrade, depth@100ms]
`,
  );
  return configPath;
}
