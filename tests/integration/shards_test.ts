/**
 * Three shards as three `main.ts` processes (one config file, `COLLECTOR_SHARD_INDEX` per process, `{shard}` in
 * the paths) against one simulator, then each shard's cloud sync into one local-directory rclone remote: every
 * (market, symbol) is recorded by exactly the shard rendezvous hashing gives it, file names never collide, and
 * the remote read as one dataset holds every symbol's trades once, equal to the exchange's.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Market } from "../../lib/binance/markets.ts";
import { manifestIndex } from "../../lib/cloud/file_index.ts";
import { Rclone, remoteRoot } from "../../lib/cloud/rclone.ts";
import { CloudSync } from "../../lib/cloud/sync.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { assignedShards } from "../../lib/shard.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { fileShard, parseParquetPath } from "../../lib/storage/layout.ts";
import { Manifest, type ManifestEntry } from "../../lib/storage/manifest.ts";
import { readTableRows } from "../../lib/storage/read_rows.ts";
import { startMain } from "../_main_process.ts";
import { type Sim } from "./_harness.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "LTCUSDT"];
const MARKETS: Market[] = ["spot", "usdm"];
const COUNT = 3;

function configYaml(sim: Sim, base: string): string {
  return `symbols: [${SYMBOLS.join(", ")}]
shard:
  count: ${COUNT}
data_dir: ${JSON.stringify(`${base}/{shard}`)}
log_dir: ${JSON.stringify(`${base}/{shard}/logs`)}
flush_interval: 1
orderbook_depth: 100
status:
  enabled: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
    streams: [depth@100ms, aggTrade]
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
    streams: [depth@100ms, aggTrade]
`;
}

/** Uploads every file a stopped shard wrote, through its own ledger's cloud-sync queue. */
async function syncShard(dataDir: string, shard: string, root: string): Promise<ManifestEntry[]> {
  const ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`, { get: () => undefined }, { shard });
  try {
    const manifest = await Manifest.load(dataDir);
    const sync = new CloudSync({
      kv: ledger.kv,
      rclone: new Rclone(),
      files: manifestIndex(manifest, ledger),
      dataDir,
      root,
      backoffSchedule: [100, 200, 400],
    });
    const listening = sync.listen();
    // Hours ahead: every file counts as finished (the hour ended long ago).
    const { enqueued } = await sync.enqueuePending(Date.now() + 5 * 3_600_000);
    assert.equal(enqueued.length, manifest.entries().length, `${shard}: every file queued`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states = await Promise.all(enqueued.map((p) => sync.state.synced(p)));
      if (states.every((r) => r !== null)) break;
      if (Date.now() > deadline) assert.fail(`${shard}: not every file uploaded within 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    ledger.close();
    await listening;
    return manifest.entries();
  } catch (err) {
    ledger.close();
    throw err;
  }
}

Deno.test("three shards (main.ts processes) split the symbols exactly and sync into one remote as one dataset", async () => {
  const sim = await startSimulator({ symbols: SYMBOLS, seed: 41, tickMs: 10, rate: 100, truth: true });
  const base = await Deno.makeTempDir({ prefix: "shards-" });
  const configPath = join(base, "config.yaml");
  await Deno.writeTextFile(configPath, configYaml(sim, base));
  const runs = Array.from(
    { length: COUNT },
    (_, i) => startMain([configPath], { env: { COLLECTOR_SHARD_INDEX: `collector-${i}` } }),
  );
  try {
    // Every shard flushed trades three times, all within 60 s.
    const end = Date.now() + 60_000;
    for (const run of runs) await run.waitForLog(/flushed reason="interval"/, end - Date.now(), 3);
    const stopped = await Promise.all(runs.map((run) => run.stop("SIGTERM")));
    stopped.forEach((status, i) => assert.equal(status.code, 0, runs[i]!.tail()));

    const remoteDir = join(base, "remote");
    const root = remoteRoot(":local:", remoteDir);
    const written: ManifestEntry[] = [];
    for (let i = 0; i < COUNT; i++) {
      const entries = await syncShard(join(base, `s${i}`), `s${i}`, root);
      assert.ok(entries.every((e) => fileShard(e.path.slice(e.path.lastIndexOf("/") + 1)) === `s${i}`));
      written.push(...entries);
    }
    // One remote: no name written twice, and every file arrived.
    assert.equal(new Set(written.map((e) => e.path)).size, written.length);
    const remoteFiles = written.filter((e) => parseParquetPath(e.path) !== null);
    for (const e of remoteFiles) {
      assert.equal((await Deno.stat(join(remoteDir, e.path))).size, e.bytes, e.path);
    }

    for (const market of MARKETS) {
      // The remote read as one dataset (files of every shard).
      const trades = await readTableRows(remoteDir, remoteFiles, market, "trades");
      const bySymbol = Map.groupBy(trades, (t) => t.symbol);
      assert.deepEqual([...bySymbol.keys()].sort(), [...SYMBOLS].sort(), `${market}: every symbol recorded`);
      for (const symbol of SYMBOLS) {
        const files = remoteFiles.filter((e) => e.market === market && e.table === "trades");
        const shards = new Set<string>();
        for (const e of files) {
          const rows = await readTableRows(remoteDir, [e], market, "trades", { symbol });
          if (rows.length > 0) shards.add(fileShard(e.path.slice(e.path.lastIndexOf("/") + 1))!);
        }
        const owner = assignedShards(market, symbol, COUNT, 1)[0];
        assert.deepEqual([...shards], [`s${owner}`], `${market} ${symbol}: recorded by its shard only`);
        const rows = bySymbol.get(symbol)!;
        const ids = rows.map((t) => t.agg_trade_id);
        assert.equal(new Set(ids).size, ids.length, `${market} ${symbol}: each trade once`);
        const truth = new Map(sim.truth.trades(market, symbol).map((t) => [t.aggTradeId, t]));
        for (const r of rows) assert.equal(r.price, truth.get(r.agg_trade_id)?.price, `${market} ${symbol}`);
      }
    }
  } finally {
    await Promise.all(runs.map((run) => run.kill()));
    await sim.close();
    await Deno.remove(base, { recursive: true });
  }
});
