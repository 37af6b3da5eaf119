/**
 * COIN-M wire frames of the simulator, sans I/O: the fields of the recorded COIN-M messages
 * (tests/fixtures/binance/cryptofeed/master_commit-ce58c2a0/BINANCE_DELIVERY.ws.1.0.gz), whole-contract
 * quantities, kline volumes in contracts (`v`, `V`) and in the base asset (`q`, `Q`), and no funding fields for
 * delivery contracts.
 */
import assert from "node:assert/strict";
import { deliverySymbol, quarterlyAfter } from "../../lib/sim/coinm_contracts.ts";
import type { AggTradeEvent, KlineEvent, SimEvent } from "../../lib/sim/events.ts";
import { Exchange } from "../../lib/sim/exchange.ts";
import { eventFrame } from "../../lib/sim/frames.ts";
import { readFixtureLines } from "../fixtures_util.ts";

const T0 = 1_767_225_600_000; // 2026-01-01 00:00 UTC
const QUARTER = deliverySymbol("BTCUSD", quarterlyAfter(T0));

type Json = Record<string, unknown>;

/** Steps a COIN-M exchange (and a spot symbol beside it) from T0 for `seconds`, every 10 ms. */
function run(seconds: number): SimEvent[] {
  const exchange = new Exchange({ symbols: ["BTCUSDT", "BTCUSD_PERP", QUARTER, "ETHUSD_PERP"], seed: 9 }, T0);
  const events: SimEvent[] = [];
  for (let t = T0 + 10; t <= T0 + seconds * 1000; t += 10) {
    for (const e of exchange.step(t, null)) if (e.spec.market === "coinm") events.push(e);
  }
  return events;
}

const frameOf = (e: SimEvent): Json => JSON.parse(eventFrame(e));

/** The recorded COIN-M payloads, by event type (`e`). */
async function recordedByType(): Promise<Map<string, Json>> {
  const out = new Map<string, Json>();
  const file = "binance/cryptofeed/master_commit-ce58c2a0/BINANCE_DELIVERY.ws.1.0.gz";
  for await (const r of readFixtureLines(file)) {
    if (r.kind !== "ws") continue;
    const data = JSON.parse(r.text).data as Json;
    if (!out.has(String(data.e))) out.set(String(data.e), data);
  }
  return out;
}

const sortedKeys = (o: unknown) => Object.keys(o as Json).sort();

Deno.test("COIN-M frames have exactly the fields of the recorded COIN-M messages", async () => {
  const events = run(3);
  const recorded = await recordedByType();
  assert.deepEqual([...recorded.keys()].sort(), ["aggTrade", "bookTicker", "depthUpdate", "kline"]);
  for (const [type, real] of recorded) {
    const kind = type === "depthUpdate" ? "depth" : type;
    const sim = frameOf(events.find((e) => e.kind === kind && e.spec.symbol === "BTCUSD_PERP")!);
    assert.deepEqual(sortedKeys(sim), sortedKeys(real), type);
    if (type === "kline") assert.deepEqual(sortedKeys(sim.k), sortedKeys(real.k));
    if ("ps" in sim) assert.equal(sim.ps, "BTCUSD");
  }
});

Deno.test('COIN-M markPrice (no ap; r "" and T 0 for delivery contracts) and forceOrder (o.ps)', () => {
  const events = run(40);
  const mark = (symbol: string) =>
    frameOf(events.find((e) => e.kind === "markPrice" && e.spec.symbol === symbol)!);
  const perp = mark("BTCUSD_PERP");
  assert.deepEqual(Object.keys(perp), ["e", "E", "s", "p", "i", "P", "r", "T"]);
  assert.match(String(perp.r), /^-?\d\.\d{8}$/);
  assert.ok((perp.T as number) > T0);
  const delivery = mark(QUARTER);
  assert.deepEqual([delivery.r, delivery.T], ["", 0]);
  const liquidation = events.find((e) => e.kind === "forceOrder");
  assert.ok(liquidation !== undefined, "a liquidation within 40 s");
  const o = frameOf(liquidation).o as Json;
  assert.deepEqual(Object.keys(o), ["s", "ps", "S", "o", "f", "q", "p", "ap", "X", "l", "z", "T"]);
});

Deno.test("COIN-M quantities are whole contracts in every frame", () => {
  const quantities: string[] = [];
  for (const e of run(20)) {
    const f = frameOf(e);
    if (e.kind === "depth") {
      for (const [, q] of [...(f.b as string[][]), ...(f.a as string[][])]) quantities.push(q!);
    } else if (e.kind === "aggTrade") quantities.push(String(f.q));
    else if (e.kind === "bookTicker") quantities.push(String(f.B), String(f.A));
    else if (e.kind === "kline") quantities.push(String((f.k as Json).v), String((f.k as Json).V));
    else if (e.kind === "forceOrder") quantities.push(String((f.o as Json).q));
  }
  assert.ok(quantities.length > 10_000, `${quantities.length} quantities`);
  const bad = quantities.filter((q) => !/^\d+$/.test(q));
  assert.deepEqual(bad.slice(0, 5), [], "no fractional contracts");
});

Deno.test("COIN-M klines: v and V count contracts, q and Q are base-asset volume (contracts × size / price)", () => {
  const events = run(125);
  const trades = events.filter((e): e is AggTradeEvent => e.kind === "aggTrade");
  const closed = events.filter((e): e is KlineEvent =>
    e.kind === "kline" && e.closed && e.candle.interval === "1m"
  );
  let checked = 0;
  for (const ev of closed) {
    const k = frameOf(ev).k as Json;
    const inside = trades.filter((t) =>
      t.spec === ev.spec && t.tradeTime >= (k.t as number) && t.tradeTime <= (k.T as number)
    );
    if (inside.length === 0) continue;
    const size = ev.spec.contract!.size;
    const price = (t: AggTradeEvent) => Number(eventFrame(t).match(/"p":"([^"]+)"/)![1]);
    const qty = (t: AggTradeEvent) => Number(JSON.parse(eventFrame(t)).q);
    const takerBuys = inside.filter((t) => !t.buyerMaker);
    const contracts = inside.reduce((n, t) => n + qty(t), 0);
    const base = inside.reduce((n, t) => n + (qty(t) * size) / price(t), 0);
    const buyBase = takerBuys.reduce((n, t) => n + (qty(t) * size) / price(t), 0);
    assert.equal(Number(k.v), contracts, `${ev.spec.symbol} v`);
    assert.equal(Number(k.V), takerBuys.reduce((n, t) => n + qty(t), 0), `${ev.spec.symbol} V`);
    // Each fill's base volume is rounded to 1e-8 before summing.
    assert.ok(
      Math.abs(Number(k.q) - base) <= inside.length * 5e-9 + 1e-9,
      `${ev.spec.symbol} q ${k.q} ${base}`,
    );
    assert.ok(Math.abs(Number(k.Q) - buyBase) <= takerBuys.length * 5e-9 + 1e-9, `${ev.spec.symbol} Q`);
    assert.match(String(k.q), /^\d+\.\d{8}$/);
    checked++;
  }
  assert.ok(checked >= 4, `closed candles with trades: ${checked}`);
});
