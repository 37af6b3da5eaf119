/**
 * The normalizer on real recorded Binance messages: frames and REST snapshots go in as journal records, rows of
 * the output tables come out. Checks the written book against the recorded bookTicker stream, that replaying the
 * written depth rows reproduces every written book snapshot, and that nothing is reported as a gap.
 */
import assert from "node:assert/strict";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import type { Market } from "../../lib/binance/types.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import type { RowSink } from "../../lib/pipeline/normalizer_contract.ts";
import { type JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";
import { readFixtureLines, readFixtureRecords } from "../fixtures_util.ts";

class MemorySink implements RowSink {
  readonly rows: { [N in TableName]?: Row<N>[] } = {};
  row<N extends TableName>(_m: Market, table: N, _s: string, _p: number, row: Row<N>): void {
    // Lists are views of reused buffers: copy them as a writer would.
    const copy = { ...row } as Record<string, unknown>;
    for (const [k, v] of Object.entries(copy)) if (v instanceof Float64Array) copy[k] = Array.from(v);
    ((this.rows[table] ??= []) as Row<N>[]).push(copy as Row<N>);
  }
  of<N extends TableName>(table: N): Row<N>[] {
    return (this.rows[table] ?? []) as Row<N>[];
  }
}

async function normalizeFixture(
  file: string | string[],
  market: Market,
  symbols: string[],
  streams: string[],
) {
  const plan = planStreams({ market, wsUrl: "wss://example", symbols, streams });
  const sink = new MemorySink();
  const snapshotsRequested: string[] = [];
  const n = new MarketNormalizer(plan, sink, { needSnapshot: (_m, s) => snapshotsRequested.push(s) }, {
    topLevels: 20,
  });
  for (const c of plan.connections) {
    n.process({ localUs: 0, market, conn: 1, kind: RecordKind.ConnOpen, symbol: "", text: c.key });
  }
  const lines = Array.isArray(file) ? await readFixtureRecords(...file) : readFixtureLines(file);
  for await (const line of lines) {
    let rec: JournalRecord | null = null;
    if (line.kind === "ws") {
      rec = {
        localUs: line.localTimeUs,
        market,
        conn: 1,
        kind: RecordKind.Frame,
        symbol: "",
        text: line.text,
      };
    } else if (line.kind === "http") {
      const symbol = line.url === null ? symbols[0]! : new URL(line.url).searchParams.get("symbol");
      if (symbol && line.text.includes("lastUpdateId") && symbols.includes(symbol)) {
        rec = {
          localUs: line.localTimeUs,
          market,
          conn: 0,
          kind: RecordKind.Snapshot,
          symbol,
          text: line.text,
        };
      }
    }
    if (rec) n.process(rec);
  }
  // Diffs that waited for the snapshot in the book's buffer keep their arrival times too.
  for (const table of ["depth_updates", "book_snapshots", "trades", "book_tickers"] as const) {
    const bad = sink.of(table).find((r) => !(r.local_time > 1.5e15));
    assert.equal(bad, undefined, `${table}: a row without its arrival time`);
  }
  return { sink, normalizer: n, snapshotsRequested };
}

/** Replays `depth_updates` rows (a snapshot block resets the book) and checks every `book_snapshots` row. */
function replayDepthRows(sink: MemorySink, symbol: string): number {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const snapshots = sink.of("book_snapshots").filter((r) => r.symbol === symbol);
  let next = 0;
  let inSnapshot = false;
  let checked = 0;
  const depth = sink.of("depth_updates").filter((r) => r.symbol === symbol);
  for (let i = 0; i < depth.length; i++) {
    const r = depth[i]!;
    if (r.is_snapshot && !inSnapshot) {
      bids.clear();
      asks.clear();
    }
    inSnapshot = r.is_snapshot;
    const side = r.side === "bid" ? bids : asks;
    if (r.quantity === 0) side.delete(r.price);
    else side.set(r.price, r.quantity);
    const endOfDiff = i + 1 === depth.length || depth[i + 1]!.final_update_id !== r.final_update_id ||
      depth[i + 1]!.is_snapshot !== r.is_snapshot;
    if (!r.is_snapshot && endOfDiff) {
      const snap = snapshots[next++]!;
      assert.equal(snap.last_update_id, r.final_update_id);
      const topBids = [...bids].sort((a, b) => b[0] - a[0]).slice(0, 20);
      const topAsks = [...asks].sort((a, b) => a[0] - b[0]).slice(0, 20);
      assert.deepEqual(snap.bid_prices, topBids.map((l) => l[0]));
      assert.deepEqual(snap.bid_quantities, topBids.map((l) => l[1]));
      assert.deepEqual(snap.ask_prices, topAsks.map((l) => l[0]));
      assert.deepEqual(snap.ask_quantities, topAsks.map((l) => l[1]));
      checked++;
    }
  }
  assert.equal(next, snapshots.length, "every book snapshot row is explained by the depth rows before it");
  return checked;
}

/** Compares the written top of book with the recorded bookTicker at the same update id. */
function checkAgainstBookTicker(sink: MemorySink, symbol: string): number {
  const books = new Map(
    sink.of("book_snapshots").filter((r) => r.symbol === symbol).map((r) => [r.last_update_id, r]),
  );
  let checks = 0;
  for (const t of sink.of("book_tickers")) {
    if (t.symbol !== symbol) continue;
    const b = books.get(t.update_id);
    if (!b) continue;
    assert.equal(b.bid_prices[0], t.bid_price, `best bid at ${t.update_id}`);
    assert.equal(b.bid_quantities[0], t.bid_quantity);
    assert.equal(b.ask_prices[0], t.ask_price);
    assert.equal(b.ask_quantities[0], t.ask_quantity);
    checks++;
  }
  return checks;
}

Deno.test("normalizer: spot BTCUSDT recording (hftbacktest) gives chained depth rows and true books", async () => {
  const { sink, normalizer, snapshotsRequested } = await normalizeFixture(
    "binance/hftbacktest/spot/btcusdt_20240808.gz",
    "spot",
    ["BTCUSDT"],
    ["depth@100ms", "bookTicker"],
  );
  assert.deepEqual(snapshotsRequested, ["BTCUSDT"]);
  assert.equal(sink.of("gaps").length, 0);
  assert.equal(normalizer.bookOf("BTCUSDT")!.state, "synced");
  assert.equal(sink.of("book_snapshots").length, 3449, "applied diffs (SOURCES.md)");
  assert.equal(sink.of("depth_updates").filter((r) => r.is_snapshot).length, 2000, "1000 levels per side");
  assert.equal(checkAgainstBookTicker(sink, "BTCUSDT"), 564, "bookTicker cross-checks (SOURCES.md)");
  assert.equal(replayDepthRows(sink, "BTCUSDT"), 3449);
  assert.equal(sink.of("book_tickers").length, 28040);
  // Spot has no transaction time nor previous final id.
  assert.ok(
    sink.of("depth_updates").every((r) => r.transaction_time === null && r.prev_final_update_id === null),
  );
  assert.equal(normalizer.stats.unknownFrames, 9757, "the recording's @trade stream is not in the plan");
});

Deno.test("normalizer: USD-M recording of 5 symbols (cryptofeed) chains on pu and writes trades once", async () => {
  const symbols = ["BATUSDT", "CHRUSDT", "CTKUSDT", "NEOUSDT", "SANDUSDT"];
  const { sink } = await normalizeFixture(
    "binance/cryptofeed/2021-04-05_commit-1312c062/BINANCE_FUTURES-1125a2.0.gz",
    "usdm",
    symbols,
    ["depth@100ms", "bookTicker", "aggTrade"],
  );
  assert.equal(sink.of("gaps").length, 0);
  let checks = 0;
  for (const s of symbols) {
    checks += checkAgainstBookTicker(sink, s);
    replayDepthRows(sink, s);
  }
  assert.equal(checks, 215, "bookTicker cross-checks (SOURCES.md)");
  const trades = sink.of("trades");
  assert.equal(trades.length, 574);
  for (const s of symbols) {
    const ids = trades.filter((t) => t.symbol === s).map((t) => t.agg_trade_id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${s} agg ids ascending`);
    assert.equal(new Set(ids).size, ids.length);
  }
  assert.ok(
    sink.of("depth_updates").filter((r) => !r.is_snapshot).every((r) => r.prev_final_update_id !== null),
  );
});

Deno.test("normalizer: COIN-M recording (cryptofeed, dstream) chains 10 perpetual and quarterly books on pu, in contracts", async () => {
  const symbols = [
    "LINKUSD_211231",
    "LINKUSD_PERP",
    "TRXUSD_PERP",
    "ETCUSD_PERP",
    "BTCUSD_211231",
    "XRPUSD_PERP",
    "EOSUSD_PERP",
    "BCHUSD_PERP",
    "BCHUSD_210924",
    "ETHUSD_210924",
  ];
  const master = "binance/cryptofeed/master_commit-ce58c2a0";
  const { sink, normalizer } = await normalizeFixture(
    [`${master}/BINANCE_DELIVERY.http.0.0.gz`, `${master}/BINANCE_DELIVERY.ws.1.0.gz`],
    "coinm",
    symbols,
    ["depth@100ms", "bookTicker", "aggTrade", "kline_1m"],
  );
  assert.equal(sink.of("gaps").length, 0);
  assert.equal(normalizer.stats.malformedFrames, 0);
  let checks = 0;
  for (const s of symbols) {
    checks += checkAgainstBookTicker(sink, s);
    replayDepthRows(sink, s);
  }
  assert.ok(checks >= 200, `bookTicker cross-checks: ${checks}`);
  const depth = sink.of("depth_updates").filter((r) => !r.is_snapshot);
  assert.ok(depth.every((r) => r.prev_final_update_id !== null && r.transaction_time !== null));
  assert.ok(depth.every((r) => Number.isInteger(r.quantity)), "COIN-M quantities are whole contracts");
  const trades = sink.of("trades");
  assert.ok(trades.length > 0 && trades.every((t) => Number.isInteger(t.quantity)));
});

Deno.test("normalizer: a frame missing from the recording is a sequence gap, closed by the next snapshot", async () => {
  const market: Market = "spot";
  const plan = planStreams({
    market,
    wsUrl: "wss://example",
    symbols: ["BTCUSDT"],
    streams: ["depth@100ms"],
  });
  const sink = new MemorySink();
  let requests = 0;
  const n = new MarketNormalizer(plan, sink, { needSnapshot: () => requests++ }, { topLevels: 5 });
  n.process({
    localUs: 0,
    market,
    conn: 1,
    kind: RecordKind.ConnOpen,
    symbol: "",
    text: plan.connections[0]!.key,
  });
  let snapshot = "";
  let applied = 0;
  let dropped = false;
  for await (const line of readFixtureLines("binance/hftbacktest/spot/btcusdt_20240808.gz")) {
    if (line.kind === "http") {
      snapshot = line.text;
      n.process({
        localUs: line.localTimeUs,
        market,
        conn: 0,
        kind: RecordKind.Snapshot,
        symbol: "BTCUSDT",
        text: line.text,
      });
      continue;
    }
    if (line.kind !== "ws" || !line.text.includes("@depth")) continue;
    if (n.bookOf("BTCUSDT")!.state === "synced" && ++applied === 100 && !dropped) {
      dropped = true; // the 100th diff after sync never arrives
      continue;
    }
    n.process({
      localUs: line.localTimeUs,
      market,
      conn: 1,
      kind: RecordKind.Frame,
      symbol: "",
      text: line.text,
    });
  }
  assert.ok(dropped);
  assert.equal(requests, 2, "one snapshot at start, one after the gap");
  assert.equal(sink.of("gaps").length, 0, "the gap stays open until the book is re-synced");
  assert.equal(n.bookOf("BTCUSDT")!.state, "buffering");
  // The only snapshot in the recording is older than the buffered stream: rejected, and asked again.
  n.process({ localUs: 1, market, conn: 0, kind: RecordKind.Snapshot, symbol: "BTCUSDT", text: snapshot });
  assert.equal(requests, 3);
  n.process({ localUs: 2, market, conn: 0, kind: RecordKind.Shutdown, symbol: "", text: "" });
  const gaps = sink.of("gaps");
  assert.equal(gaps.length, 1);
  assert.equal(gaps[0]!.kind, "sequence");
  assert.equal(gaps[0]!.stream, "depth@100ms");
  assert.ok(gaps[0]!.last_update_id! > 50093239218);
  assert.match(gaps[0]!.reason, /still open at shutdown/);
});
