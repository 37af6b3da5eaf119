import assert from "node:assert/strict";
import type { DiffEvent } from "../../lib/sim/events.ts";
import { Exchange } from "../../lib/sim/exchange.ts";
import { GroundTruth, TruthQueryError } from "../../lib/sim/truth.ts";

const T0 = 1_767_225_600_000;

function record(truth: GroundTruth, steps = 300): Exchange {
  const ex = new Exchange({ symbols: ["BTCUSDT"], seed: 12 }, T0);
  for (const e of ex.engines()) truth.addSymbol(e.spec, e.initial);
  for (let i = 1; i <= steps; i++) for (const ev of ex.step(T0 + i * 10, null)) truth.record(ev);
  return ex;
}

Deno.test("GroundTruth.bookAt replays to any diff's final id, forwards and backwards", () => {
  const truth = new GroundTruth({ memory: true });
  record(truth);
  for (const market of ["spot", "usdm"] as const) {
    const diffs = truth.diffs(market, "BTCUSDT");
    assert.equal(diffs.length, 30);
    const init = truth.initialBook(market, "BTCUSDT");
    assert.deepEqual(truth.bookAt(market, "BTCUSDT", init.lastUpdateId, 3).bids, init.bids.slice(0, 3));
    const last = diffs.at(-1)!.finalUpdateId;
    const mid = truth.bookAt(market, "BTCUSDT", diffs[10]!.finalUpdateId, 10);
    const end = truth.bookAt(market, "BTCUSDT", last, 10);
    assert.deepEqual(truth.bookAt(market, "BTCUSDT", diffs[10]!.finalUpdateId, 10), mid, "rewinds correctly");
    assert.notDeepEqual(mid, end);
    // An independent replay with plain maps gives the same top of book.
    const bids = new Map(init.bids);
    const asks = new Map(init.asks);
    for (const d of diffs) {
      for (const [p, q] of d.bids) q === 0 ? bids.delete(p) : bids.set(p, q);
      for (const [p, q] of d.asks) q === 0 ? asks.delete(p) : asks.set(p, q);
    }
    assert.deepEqual(end.bids, [...bids].sort((a, b) => b[0] - a[0]).slice(0, 10));
    assert.deepEqual(end.asks, [...asks].sort((a, b) => a[0] - b[0]).slice(0, 10));
    assert.throws(() => truth.bookAt(market, "BTCUSDT", last + 123456789, 5), TruthQueryError);
  }
  assert.equal(
    truth.diffs("usdm", "BTCUSDT")[0]!.prevFinalUpdateId,
    truth.initialBook("usdm", "BTCUSDT").lastUpdateId,
  );
  assert.equal(truth.diffs("spot", "BTCUSDT")[0]!.prevFinalUpdateId, null);
});

Deno.test("GroundTruth.bookAt answers for the final ids of every diff speed", () => {
  const truth = new GroundTruth({ memory: true });
  const ex = new Exchange({ symbols: ["BTCUSDT"], seed: 13 }, T0);
  for (const e of ex.engines()) truth.addSymbol(e.spec, e.initial);
  const seen: DiffEvent[] = [];
  for (let i = 1; i <= 300; i++) {
    for (const ev of ex.step(T0 + i * 7, null)) {
      truth.record(ev);
      if (ev.kind === "depth" && ev.stream !== "") seen.push(ev);
    }
  }
  for (const market of ["spot", "usdm"] as const) {
    const spec = ex.engine(market, "BTCUSDT")!.spec;
    for (const stream of ["btcusdt@depth", "btcusdt@depth@500ms"]) {
      const events = seen.filter((e) => e.spec.market === market && e.stream === stream);
      if (market === "spot" && stream.endsWith("500ms")) continue;
      assert.ok(events.length >= 2, `${market} ${stream}`);
      const init = truth.initialBook(market, "BTCUSDT");
      const bids = new Map(init.bids);
      for (const e of events) {
        for (let j = 0; j < e.bids.length; j += 2) {
          const p = e.bids[j]! / 10 ** spec.priceDecimals;
          const q = e.bids[j + 1]! / 10 ** spec.qtyDecimals;
          q === 0 ? bids.delete(p) : bids.set(p, q);
        }
        const expected = [...bids].sort((a, b) => b[0] - a[0]).slice(0, 5);
        assert.deepEqual(truth.bookAt(market, "BTCUSDT", e.finalId, 5).bids, expected, `${market} ${stream}`);
      }
    }
  }
});

Deno.test("GroundTruth keeps trades, closed klines, tickers, marks and liquidations", () => {
  const truth = new GroundTruth({ memory: true });
  record(truth, 1200);
  const trades = truth.trades("spot", "BTCUSDT");
  assert.ok(trades.length > 50);
  assert.equal(trades[1]!.aggTradeId, trades[0]!.aggTradeId + 1);
  const klines = truth.klines("spot", "BTCUSDT", "1s");
  assert.equal(klines.length, 12);
  const first = klines[0]!;
  const inFirst = trades.filter((t) => t.tradeTime >= first.openTime && t.tradeTime <= first.closeTime);
  assert.equal(first.tradeCount, inFirst.reduce((n, t) => n + t.lastTradeId - t.firstTradeId + 1, 0));
  const tickers = truth.bookTickers("spot", "BTCUSDT");
  assert.ok(tickers.length > 100 && tickers.every((t) => t.eventTime === null && t.bidPrice < t.askPrice));
  assert.ok(truth.bookTickers("usdm", "BTCUSDT").every((t) => t.eventTime === t.time));
  assert.equal(truth.markPrices("usdm", "BTCUSDT").length, 12);
  assert.ok(truth.forceOrders("usdm", "BTCUSDT").every((f) => f.status === "FILLED"));
});

Deno.test("GroundTruth writes JSON lines and refuses queries when not in memory", () => {
  const lines: string[] = [];
  const truth = new GroundTruth({ memory: false, sink: (l) => lines.push(l) });
  record(truth, 120);
  truth.recordFault({ action: "disconnect", market: null, connections: 2, time: T0 });
  const parsed = lines.map((l) => JSON.parse(l));
  assert.deepEqual(parsed.slice(0, 2).map((l) => [l.type, l.market]), [["initialBook", "spot"], [
    "initialBook",
    "usdm",
  ]]);
  const depth = parsed.find((l) => l.type === "depth" && l.market === "spot");
  assert.equal(depth.data.U, parsed[0].lastUpdateId + 1);
  assert.ok(parsed.every((l) => l.type !== "depth" || l.data.e === "depthUpdate"));
  assert.deepEqual(parsed.at(-1), {
    type: "fault",
    action: "disconnect",
    market: null,
    connections: 2,
    time: T0,
  });
  assert.throws(() => truth.diffs("spot", "BTCUSDT"), TruthQueryError);
  assert.throws(() => new GroundTruth({ memory: true }).trades("spot", "BTCUSDT"), /not simulated/);
});

Deno.test("GroundTruth with windowMs keeps memory bounded and still answers bookAt in the window", () => {
  const windowMs = 10_000;
  const windowed = new GroundTruth({ memory: true, windowMs });
  const full = new GroundTruth({ memory: true });
  const ex = new Exchange({ symbols: ["BTCUSDT"], seed: 14 }, T0);
  for (const e of ex.engines()) {
    windowed.addSymbol(e.spec, e.initial);
    full.addSymbol(e.spec, e.initial);
  }
  windowed.recordListing({ action: "halt", market: "spot", symbol: "ETHUSDT", status: "HALT", time: T0 });
  const sizes = () =>
    (["spot", "usdm"] as const).map((m) =>
      Math.max(windowed.diffs(m, "BTCUSDT").length, windowed.trades(m, "BTCUSDT").length / 100)
    );
  let largest = 0;
  const end = T0 + 60_000;
  for (let t = T0 + 10; t <= end; t += 10) {
    for (const ev of ex.step(t, null)) {
      windowed.record(ev);
      full.record(ev);
    }
    windowed.prune(t);
    if (t % 1000 === 0) largest = Math.max(largest, ...sizes());
  }
  // 100 ms diffs: at most the window plus one pruning interval (a tenth of the window, at least 1 s) of them.
  assert.ok(largest <= (windowMs + 1000) / 100 + 1, `kept at most ${largest} diffs`);
  assert.equal(full.diffs("spot", "BTCUSDT").length, 600, "the reference kept everything");
  for (const market of ["spot", "usdm"] as const) {
    const kept = windowed.diffs(market, "BTCUSDT");
    assert.ok(kept[0]!.eventTime >= end - windowMs - 1000);
    assert.deepEqual(kept, full.diffs(market, "BTCUSDT").slice(-kept.length), "the newest diffs are kept");
    for (const d of kept) {
      assert.deepEqual(
        windowed.bookAt(market, "BTCUSDT", d.finalUpdateId, 20),
        full.bookAt(market, "BTCUSDT", d.finalUpdateId, 20),
        "folded base book + kept diffs = the true book",
      );
    }
    const old = full.diffs(market, "BTCUSDT")[10]!.finalUpdateId;
    assert.throws(() => windowed.bookAt(market, "BTCUSDT", old, 5), /before the truth window/);
    const trades = windowed.trades(market, "BTCUSDT");
    assert.deepEqual(trades, full.trades(market, "BTCUSDT").slice(-trades.length));
    assert.ok(trades.every((t) => t.eventTime >= end - windowMs - 1000));
    assert.deepEqual(windowed.initialBook(market, "BTCUSDT"), full.initialBook(market, "BTCUSDT"));
  }
  assert.equal(windowed.listings("spot").length, 1, "listing changes are always kept");
});
