/**
 * `deno task merge` as a user runs it, on two replicas (shards s0 and s1 with `replicas: 2`) that recorded the
 * same simulator, each behind its own loopback proxy so that a fault hits one replica's connections only: A is
 * cut alone, B is cut alone, then both are down together for a while (and two diffs the exchange never sends hit
 * both). The merged output must equal the exchange's ground truth (every trade once, every book, the depth tape
 * replaying into the true book), have fewer gap rows than either replica and a gap only where both missed, and
 * pass `deno task verify`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type App, startApp } from "../../lib/app.ts";
import type { Market } from "../../lib/binance/markets.ts";
import { OrderBook } from "../../lib/book/order_book.ts";
import { parseConfig } from "../../lib/config.ts";
import { type Interval, mergeIntervals, subtractIntervals } from "../../lib/ledger/intervals.ts";
import { silentLogger } from "../../lib/log.ts";
import { mergeRecordings } from "../../lib/merge/merge.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import {
  checkBooks,
  checkDroppedDiffsInGaps,
  checkKlines,
  checkKlinesComplete,
  checkTrades,
  readWritten,
  type Written,
} from "../integration/_checks.ts";
import { type PlainRow, type Sim, sleep, waitFor } from "../integration/_harness.ts";
import { TcpProxy } from "./_tcp_proxy.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const MARKETS: Market[] = ["spot", "usdm"];
const TOP = 10;

interface Replica {
  name: string;
  dir: string;
  proxy: TcpProxy;
  app: App;
  /** Gap rows as the collector wrote them (to wait for backfills). */
  gaps: { market: Market; stream: string; symbol: string; kind: string }[];
  outages: number;
}

async function startReplica(sim: Sim, base: string, index: number): Promise<Replica> {
  const proxy = new TcpProxy(sim.port);
  const dir = join(base, `s${index}`);
  const ws = `ws://127.0.0.1:${proxy.port}`;
  const config = parseConfig(
    `symbols: [${SYMBOLS.join(", ")}]
shard: {index: ${index}, count: 2, replicas: 2}
data_dir: ${JSON.stringify(dir)}
flush_interval: 1
orderbook_depth: 1000
orderbook_top_levels: ${TOP}
use_futures: true
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${ws}/spot
    streams: [depth@100ms, aggTrade, kline_1s, bookTicker]
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${ws}/usdm
    streams: [depth@100ms, aggTrade, bookTicker, forceOrder, markPrice@1s]
`,
    "replica.yaml",
  );
  const replica: Replica = {
    name: `s${index}`,
    dir,
    proxy,
    app: null as unknown as App,
    gaps: [],
    outages: 0,
  };
  replica.app = await startApp(config, silentLogger, {
    onGap: (market, g) => replica.gaps.push({ market, stream: g.stream, symbol: g.symbol, kind: g.kind }),
  });
  return replica;
}

function connIds(app: App): Set<number | null> {
  return new Set(app.collector.status().flatMap((m) => m.connections.map((c) => c.connId)));
}

function synced(app: App): boolean {
  return app.collector.status().every((m) =>
    m.books.length === SYMBOLS.length && m.books.every((b) => b.state === "synced") &&
    m.connections.every((c) => c.state === "subscribed")
  );
}

/** Drops the replica's connections and refuses new ones for `ms`; returns the connections it had. */
function outage(r: Replica, ms: number): Set<number | null> {
  const before = connIds(r.app);
  r.proxy.refuseFor(ms);
  r.proxy.cut();
  r.outages++;
  return before;
}

/** Waits until the replica runs on new connections, its books are synced and its holes are backfilled. */
async function recovered(r: Replica, before: Set<number | null>): Promise<void> {
  const backfilled = (market: Market, symbol: string, stream: string) =>
    r.gaps.filter((g) =>
      g.market === market && g.symbol === symbol && g.stream === stream && g.kind === "backfilled"
    )
      .length;
  await waitFor(`${r.name} back after outage ${r.outages}`, () => {
    const status = r.app.collector.status();
    const fresh = status.every((m) => m.connections.every((c) => !before.has(c.connId)));
    const filled = SYMBOLS.every((s) =>
      MARKETS.every((m) => backfilled(m, s, "aggTrade") >= r.outages) &&
      backfilled("spot", s, "kline_1s") >= r.outages
    );
    return fresh && synced(r.app) && filled;
  }, 30_000);
}

/** Non-backfilled gap rows not cancelled by a backfilled row of the same bounds, as intervals per stream. */
function missing(gaps: readonly PlainRow<"gaps">[], symbol: string, stream: string): Interval[] {
  const own = gaps.filter((g) => g.symbol === symbol && g.stream === stream);
  const recovered = own.filter((g) => g.kind === "backfilled");
  const out: Interval[] = [];
  for (const g of own) {
    if (g.kind === "backfilled") continue;
    const i = recovered.findIndex((b) => b.start_time === g.start_time && b.end_time === g.end_time);
    if (i >= 0) recovered.splice(i, 1);
    else out.push([g.start_time, Math.max(g.end_time, g.start_time + 1)]);
  }
  return mergeIntervals(out);
}

/** Replays the merged depth tape of one symbol; after every diff its top levels must be the exchange's. */
function replayTape(sim: Sim, market: Market, symbol: string, w: Written): number {
  const rows = w.depth.filter((r) => r.symbol === symbol);
  const book = new OrderBook();
  const [bp, bq, ap, aq] = [0, 0, 0, 0].map(() => new Float64Array(TOP));
  let synced = false;
  let checked = 0;
  for (let i = 0; i < rows.length;) {
    const id = rows[i]!.final_update_id;
    const snapshot = rows[i]!.is_snapshot;
    let j = i;
    while (j < rows.length && rows[j]!.final_update_id === id && rows[j]!.is_snapshot === snapshot) j++;
    const unit = rows.slice(i, j);
    const levels = (side: string) =>
      unit.filter((r) => r.side === side).map((r) => [r.price, r.quantity] as [number, number]);
    if (snapshot) {
      book.reset({ lastUpdateId: id, bids: levels("bid"), asks: levels("ask") });
      synced = true;
    } else {
      assert.ok(synced, `${market} ${symbol}: diff ${id} before any snapshot`);
      book.apply({ finalUpdateId: id, bids: levels("bid"), asks: levels("ask") });
      const truth = sim.truth.bookAt(market, symbol, id, TOP);
      const nb = book.top("bid", TOP, bp!, bq!);
      const na = book.top("ask", TOP, ap!, aq!);
      const top = (p: Float64Array, q: Float64Array, n: number) =>
        Array.from({ length: n }, (_, k) => [p[k], q[k]]);
      assert.deepEqual(top(bp!, bq!, nb), truth.bids, `${market} ${symbol}: bids after diff ${id}`);
      assert.deepEqual(top(ap!, aq!, na), truth.asks, `${market} ${symbol}: asks after diff ${id}`);
      checked++;
    }
    i = j;
  }
  return checked;
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("deno task merge: two replicas with different faults make one tape equal to the exchange, gaps only where both missed", async () => {
  const sim = await startSimulator({ symbols: SYMBOLS, seed: 23, tickMs: 10, truth: true });
  const base = await Deno.makeTempDir({ prefix: "merge-it-" });
  const replicas: Replica[] = [];
  try {
    replicas.push(await startReplica(sim, base, 0), await startReplica(sim, base, 1));
    const [a, b] = replicas as [Replica, Replica];
    try {
      await waitFor("both replicas synced", () => replicas.every((r) => synced(r.app)), 20_000);
      await sleep(1500);
      await recovered(a, outage(a, 2500)); // A alone
      await sleep(1000);
      sim.faults.dropDiffs = { market: "spot", symbol: "ETHUSDT", count: 2 }; // the exchange's loss: both miss it
      await recovered(b, outage(b, 2500)); // B alone
      await sleep(1000);
      // Both down: A for at least 3 s, B from 1 s into it, so at least 2 s are lost to both.
      const beforeA = outage(a, 3000);
      await sleep(1000);
      const beforeB = outage(b, 3000);
      await recovered(a, beforeA);
      await recovered(b, beforeB);
      await sleep(1500);
    } finally {
      for (const r of replicas) await r.app.stop();
      for (const r of replicas) r.proxy.close();
    }

    // One replica as a local directory, the other through rclone.
    const out = join(base, "merged");
    const merged = await run(["task", "merge", a.dir, `:local:${b.dir}`, "--out", out]);
    assert.equal(merged.code, 0, merged.stderr);
    console.log(merged.stdout);
    assert.match(merged.stdout, /recording s0@.*\n.*recording s1@:local:/);
    assert.doesNotMatch(
      merged.stdout,
      /found from ids alone/,
      "every id hole lies in a gap from the coverage",
    );

    let [gapsA, gapsB, gapsM] = [0, 0, 0];
    for (const market of MARKETS) {
      const w = await readWritten(out, market);
      const wa = await readWritten(a.dir, market);
      const wb = await readWritten(b.dir, market);
      for (const symbol of SYMBOLS) {
        const trades = checkTrades(sim, market, symbol, w);
        const ids = w.trades.filter((t) => t.symbol === symbol).map((t) => t.agg_trade_id);
        const union = new Set(
          [...wa.trades, ...wb.trades].filter((t) => t.symbol === symbol).map((t) => t.agg_trade_id),
        );
        assert.equal(trades, union.size, `${market} ${symbol}: every trade of either replica, once`);
        assert.equal(
          Math.max(...ids) - Math.min(...ids) + 1,
          trades,
          `${market} ${symbol}: no trade missing`,
        );
        checkBooks(sim, market, symbol, w, TOP);
        assert.ok(
          replayTape(sim, market, symbol, w) > 50,
          `${market} ${symbol}: the tape replays into the true book`,
        );
        if (market === "spot") {
          checkKlines(sim, market, symbol, w);
          checkKlinesComplete(sim, market, symbol, "1s", w);
        }
      }
      assert.ok(checkDroppedDiffsInGaps(sim, "spot", "ETHUSDT", await readWritten(out, "spot")) >= 1);

      // A merged gap lies where both replicas missed data, and every stretch both missed is a merged gap.
      for (const g of w.gaps) {
        for (const [name, wr] of [["A", wa], ["B", wb]] as const) {
          const left = subtractIntervals([[g.start_time, g.end_time]], missing(wr.gaps, g.symbol, g.stream));
          assert.deepEqual(
            left,
            [],
            `${market} ${g.symbol} ${g.stream} merged gap outside ${name}'s gaps: ${g.reason}`,
          );
        }
      }
      const streams = new Set([...wa.gaps, ...wb.gaps].map((g) => `${g.symbol}|${g.stream}`));
      for (const key of streams) {
        const [symbol, stream] = key.split("|") as [string, string];
        const inA = missing(wa.gaps, symbol, stream);
        const both = subtractIntervals(inA, subtractIntervals(inA, missing(wb.gaps, symbol, stream)));
        const inMerged = missing(w.gaps, symbol, stream);
        assert.deepEqual(
          subtractIntervals(both, inMerged),
          [],
          `${market} ${key}: both missed, no merged gap`,
        );
      }
      for (const symbol of SYMBOLS) {
        const depth = w.gaps.filter((g) => g.symbol === symbol && g.stream === "depth@100ms");
        assert.ok(depth.length >= 1, `${market} ${symbol}: the outage of both is a depth gap`);
        assert.deepEqual(
          w.gaps.filter((g) => g.symbol === symbol && g.stream === "aggTrade"),
          [],
          "trades backfilled",
        );
      }
      gapsA += wa.gaps.length;
      gapsB += wb.gaps.length;
      gapsM += w.gaps.length;
      assert.ok(
        w.gaps.length < wa.gaps.length && w.gaps.length < wb.gaps.length,
        `${market}: fewer gaps than either`,
      );
    }
    console.log(`gap rows: replica A ${gapsA}, replica B ${gapsB}, merged ${gapsM}`);

    const verify = await run(["task", "verify", out]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /\nOK\n?$/);

    // The same two recordings synced into one root (as two shards upload into one remote): one input, same output.
    const root = join(base, "remote");
    for (const r of replicas) {
      for (const e of (await Manifest.load(r.dir)).entries()) {
        await Deno.mkdir(join(root, e.path, ".."), { recursive: true });
        await Deno.copyFile(join(r.dir, e.path), join(root, e.path));
      }
    }
    const again = await mergeRecordings({ inputs: [root], out: join(base, "merged-again") });
    assert.deepEqual(again.recordings.map((r) => r.label), [`s0@${root}`, `s1@${root}`]);
    const rowsOf = async (dir: string) => {
      const totals: Record<string, number> = {};
      for (const e of (await Manifest.load(dir)).entries()) {
        totals[`${e.market}/${e.table}`] = (totals[`${e.market}/${e.table}`] ?? 0) + e.rows;
      }
      return totals;
    };
    assert.deepEqual(await rowsOf(join(base, "merged-again")), await rowsOf(out));
  } finally {
    await sim.close();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("deno task merge: bad inputs exit 2 with a clear message and write nothing", async () => {
  const base = await Deno.makeTempDir({ prefix: "merge-bad-" });
  try {
    const cases: [string[], RegExp][] = [
      [[`${base}/nope`, "--out", `${base}/o1`], /no such directory .*nope/],
      [[`:local:${base}/nope`, "--out", `${base}/o1`], /directory not found/],
      [[base, "--out", `${base}/o1`], /is not a data directory/],
      [[base], /--out is required/],
      [["--out", `${base}/o1`], /no input/],
    ];
    await Deno.mkdir(`${base}/full`);
    await Deno.writeTextFile(`${base}/full/x`, "x");
    cases.push([[base, "--out", `${base}/full`], /--out .*full exists and is not empty/]);
    for (const [args, message] of cases) {
      const r = await run(["task", "merge", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.deepEqual([...Deno.readDirSync(base)].map((e) => e.name), ["full"], "nothing written");
    const help = await run(["task", "merge", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: deno task merge INPUT \[INPUT\.\.\.\] --out OUT/);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
