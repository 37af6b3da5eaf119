/**
 * COIN-M over the wire: the simulator's `/coinm` endpoint as a client meets it (one WebSocket endpoint, the
 * futures book procedure with the `pu` rule, deliveries, faults aimed at COIN-M, the whole-market universe).
 */
import assert from "node:assert/strict";
import { deliverySymbol, quarterlyAfter } from "../../lib/sim/coinm_contracts.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../lib/sim/server.ts";
import type { ListingRecord } from "../../lib/sim/truth.ts";
import { type Frame, isObject, payload, TestClient, upgradeResponse, WaitTimeoutError } from "./_client.ts";

const CURRENT = deliverySymbol("BTCUSD", quarterlyAfter(Date.now()));

async function withSim(
  opts: Partial<SimulatorOptions>,
  fn: (sim: Simulator) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({
    symbols: ["BTCUSDT", "BTCUSD_PERP", CURRENT],
    seed: 17,
    tickMs: 5,
    truth: true,
    ...opts,
  });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  return await (await fetch(url)).json();
}

/** The exchangeInfo entry of a COIN-M symbol. */
async function contract(sim: Simulator, symbol: string): Promise<Record<string, unknown> | undefined> {
  const info = await getJson(`${sim.coinm.restUrl}/dapi/v1/exchangeInfo`);
  return (info.symbols as Record<string, unknown>[]).find((s) => s.symbol === symbol);
}

/** Waits until the truth has a listing record for (coinm, symbol, action). */
async function recorded(sim: Simulator, symbol: string, action: string): Promise<ListingRecord> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const r = sim.truth.listings("coinm", symbol).find((l) => l.action === action);
    if (r !== undefined) return r;
    if (Date.now() > deadline) throw new WaitTimeoutError(`${action} of ${symbol}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const num = (f: Frame, name: string) => Number(payload(f)?.[name]);

Deno.test("COIN-M serves one endpoint (/ws, /stream) with every stream kind; no routed paths", async () => {
  await withSim({}, async (sim) => {
    const kinds = [
      "depth",
      "depth@100ms",
      "depth@500ms",
      "aggTrade",
      "bookTicker",
      "kline_1m",
      "markPrice@1s",
    ];
    const combined = await TestClient.open(
      `${sim.coinm.wsUrl}/stream?streams=${kinds.map((k) => `btcusd_perp@${k}`).join("/")}`,
    );
    const raw = await TestClient.open(`${sim.coinm.wsUrl}/ws/btcusd_perp@aggTrade`);
    for (const kind of kinds) {
      const [f] = await combined.waitFor((f) => isObject(f.json) && f.json.stream === `btcusd_perp@${kind}`, {
        timeoutMs: 5000,
        what: kind,
      });
      assert.ok(Math.abs(num(f!, "E") - Date.now()) < 3000, `${kind} E is current`);
    }
    const [trade] = await raw.waitFor((f) => isObject(f.json) && f.json.e === "aggTrade");
    assert.equal((trade!.json as Record<string, unknown>).s, "BTCUSD_PERP", "raw frames are not wrapped");
    for (const path of ["/public/ws/btcusd_perp@depth", "/market/stream?streams=btcusd_perp@aggTrade"]) {
      assert.equal((await upgradeResponse(`${sim.coinm.wsUrl}${path}`)).status, 404, path);
    }
    // Futures control messages: unsigned ids, flat errors, 10 per second.
    raw.send({ method: "LIST_SUBSCRIPTIONS", id: 7 });
    assert.deepEqual(await raw.reply(7), { result: ["btcusd_perp@aggTrade"], id: 7 });
    raw.send({ method: "SUBSCRIBE", params: ["btcusd_perp@bookTicker"], id: "x" });
    assert.equal((await raw.reply(null)).code, 2);
    await raw.close();
    // The eleventh message within a second is one too many (messages after it would race the close).
    const chatty = await TestClient.open(`${sim.coinm.wsUrl}/ws`);
    for (let i = 0; i < 11; i++) chatty.send({ method: "LIST_SUBSCRIPTIONS", id: i });
    assert.equal((await chatty.closed()).code, 1008);
    await chatty.waitFor((f) => isObject(f.json) && f.json.id === 9, { what: "reply to the tenth message" });
    await combined.close();
  });
});

Deno.test("snapshot-then-diffs sync with the pu rule reproduces truth.bookAt on COIN-M", async () => {
  await withSim({}, async (sim) => {
    const ws = await TestClient.open(`${sim.coinm.wsUrl}/ws/btcusd_perp@depth@100ms`);
    await ws.waitFor((f) => payload(f)?.e === "depthUpdate");
    const snap = await getJson(`${sim.coinm.restUrl}/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000`);
    const lastId = snap.lastUpdateId as number;
    const book = { bids: new Map<number, number>(), asks: new Map<number, number>() };
    const apply = (side: Map<number, number>, levels: unknown) => {
      for (const [p, q] of levels as [string, string][]) {
        assert.match(q, /^\d+$/, "whole contracts");
        if (Number(q) === 0) side.delete(Number(p));
        else side.set(Number(p), Number(q));
      }
    };
    apply(book.bids, snap.bids);
    apply(book.asks, snap.asks);
    await ws.waitFor((f) => num(f, "u") > lastId, { count: 10, timeoutMs: 5000 });
    // A diff whose first id is not its pu + 1 (ids jump on 30% of book changes: a run of diffs may have none).
    await ws.waitFor((f) => num(f, "U") > lastId + 1 && num(f, "U") !== num(f, "pu") + 1, {
      timeoutMs: 10_000,
      what: "a diff whose ids jump",
    });
    const events = ws.frames.map((f) => payload(f)!).filter((e) => e.e === "depthUpdate");
    // Futures: drop u < lastUpdateId; the first kept has U <= lastUpdateId <= u; then pu == previous u.
    const keep = events.filter((e) => (e.u as number) >= lastId);
    assert.ok((keep[0]!.U as number) <= lastId && (keep[0]!.u as number) >= lastId);
    assert.ok(keep.some((e, i) => i > 0 && e.U !== (keep[i - 1]!.u as number) + 1), "ids jump: U is no rule");
    const top = (side: Map<number, number>, desc: boolean) =>
      [...side].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, 20);
    let prev: number | null = null;
    for (const e of keep) {
      if (prev !== null) assert.equal(e.pu, prev);
      assert.equal(e.ps, "BTCUSD");
      apply(book.bids, e.b);
      apply(book.asks, e.a);
      prev = e.u as number;
      const truth = sim.truth.bookAt("coinm", "BTCUSD_PERP", prev, 20);
      assert.deepEqual(top(book.bids, true), truth.bids, `bids after ${prev}`);
      assert.deepEqual(top(book.asks, false), truth.asks, `asks after ${prev}`);
    }
    await ws.close();
  });
});

Deno.test("a delivery contract delivers: exchangeInfo announces it, then DELIVERING; its streams stop; truth records it", async () => {
  await withSim({}, async (sim) => {
    const streams = ["depth@100ms", "aggTrade", "bookTicker", "markPrice@1s", "kline_1m"];
    const client = await TestClient.open(
      `${sim.coinm.wsUrl}/stream?streams=${
        [...streams.map((s) => `${CURRENT.toLowerCase()}@${s}`), "btcusd_perp@aggTrade"].join("/")
      }`,
    );
    await client.waitFor((f) => payload(f)?.s === CURRENT, { timeoutMs: 5000 });
    const afterMs = Date.now() - sim.startedAt + 3000;
    sim.faults.listingChanges.push({ action: "deliver", market: "coinm", symbol: CURRENT, afterMs });
    const deliveryTime = sim.startedAt + afterMs;
    // Scheduled at once: exchangeInfo shows the new delivery date while the contract still trades.
    for (let shown = false; !shown;) {
      const c = (await contract(sim, CURRENT))!;
      shown = c.deliveryDate === deliveryTime;
      if (shown) assert.deepEqual([c.contractStatus, c.contractType], ["TRADING", "CURRENT_QUARTER"]);
      else await new Promise((r) => setTimeout(r, 10));
      assert.ok(Date.now() < deliveryTime, "announced before it happens");
    }
    const record = await recorded(sim, CURRENT, "deliver");
    assert.deepEqual([record.status, record.error], ["DELIVERING", undefined]);
    assert.ok(record.time >= deliveryTime && record.time < deliveryTime + 1000);
    assert.equal((await contract(sim, CURRENT))!.contractStatus, "DELIVERING");
    // The perpetual goes on; once it has traded well past the delivery, nothing new came for the contract.
    await client.waitFor((f) => payload(f)?.s === "BTCUSD_PERP" && num(f, "E") > record.time + 500, {
      count: 3,
      timeoutMs: 5000,
    });
    const late = client.frames.filter((f) => payload(f)?.s === CURRENT && num(f, "E") > record.time);
    assert.deepEqual(late.map((f) => f.text.slice(0, 80)), [], "no frame of the contract after its delivery");
    assert.ok(sim.truth.trades("coinm", CURRENT).every((t) => t.eventTime <= record.time));
    assert.ok(sim.truth.diffs("coinm", CURRENT).length > 0);
    // REST answers from the frozen book; no next quarter is listed without the whole market.
    const depth = await getJson(`${sim.coinm.restUrl}/dapi/v1/depth?symbol=${CURRENT}&limit=5`);
    assert.equal((depth.bids as unknown[]).length, 5);
    const symbols = (await getJson(`${sim.coinm.restUrl}/dapi/v1/exchangeInfo`)).symbols as unknown[];
    assert.equal(symbols.length, 2);
    // Refused: delivering a perpetual, a delivered contract again, or resuming it.
    sim.faults.listingChanges.push(
      { action: "deliver", market: "coinm", symbol: "BTCUSD_PERP" },
      { action: "resume", market: "coinm", symbol: CURRENT },
    );
    assert.match((await recorded(sim, "BTCUSD_PERP", "deliver")).error!, /perpetual/);
    assert.match((await recorded(sim, CURRENT, "resume")).error!, /delivered/);
    await client.close();
  });
});

Deno.test("faults aimed at COIN-M: dropped diffs break the pu chain there only; disconnect by market; no serverShutdown", async () => {
  await withSim({}, async (sim) => {
    const coinm = await TestClient.open(`${sim.coinm.wsUrl}/ws/btcusd_perp@depth@100ms`);
    const usdm = await TestClient.open(`${sim.usdm.wsUrl}/public/ws/btcusdt@depth@100ms`);
    const spot = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@depth@100ms`);
    await coinm.waitFor((f) => payload(f)?.e === "depthUpdate", { count: 3 });
    sim.faults.dropDiffs = { market: "coinm", count: 2 };
    await coinm.waitFor((f) => payload(f)?.e === "depthUpdate", { count: 15, timeoutMs: 5000 });
    const drops = sim.truth.faults("coinm");
    assert.equal(drops.filter((f) => f.action === "drop").length, 2);
    assert.equal(sim.truth.faults("usdm").length, 0);
    const events = coinm.frames.map((f) => payload(f)!).filter((e) => e.e === "depthUpdate");
    const breaks = events.filter((e, i) => i > 0 && e.pu !== events[i - 1]!.u);
    const dropped = drops.map((f) => "finalUpdateId" in f ? f.finalUpdateId : -1);
    assert.ok(breaks.length >= 1, "a dropped diff is a pu gap");
    assert.ok(
      breaks.every((e) => dropped.includes(e.pu as number)),
      "after the gap, pu is a dropped event's u",
    );
    assert.ok(!events.some((e) => dropped.includes(e.u as number)), "the dropped events never arrive");
    sim.faults.serverShutdown = { closeAfterMs: 100 };
    assert.equal((await spot.closed()).code, 1001, "spot gets serverShutdown");
    sim.faults.disconnect = { market: "coinm" };
    assert.equal((await coinm.closed()).code, 1011);
    assert.equal(usdm.closeEvent, null, "USD-M stays connected through both");
    assert.ok(sim.truth.faults().some((f) => f.action === "serverShutdown" && f.market === "spot"));
    await usdm.close();
  });
});

Deno.test("whole market: 40 COIN-M contracts; a delivery lists the pair's next quarter, which streams", async () => {
  await withSim({ symbols: "all", universe: { spot: 20, usdm: 10 }, seed: 5 }, async (sim) => {
    const info = await getJson(`${sim.coinm.restUrl}/dapi/v1/exchangeInfo`);
    const list = info.symbols as Record<string, unknown>[];
    assert.equal(list.length, 40);
    const types = (t: string) => list.filter((s) => s.contractType === t).length;
    assert.deepEqual([types("PERPETUAL"), types("CURRENT_QUARTER"), types("NEXT_QUARTER")], [20, 10, 10]);
    const next = list.find((s) => s.pair === "BTCUSD" && s.contractType === "NEXT_QUARTER")!;
    const after = deliverySymbol("BTCUSD", quarterlyAfter(next.deliveryDate as number));
    const client = await TestClient.open(`${sim.coinm.wsUrl}/ws/${after.toLowerCase()}@aggTrade`);
    sim.faults.listingChanges.push({ action: "deliver", market: "coinm", symbol: CURRENT });
    await recorded(sim, CURRENT, "deliver");
    const listed = await recorded(sim, after, "list");
    assert.equal(listed.status, "TRADING");
    const [trade] = await client.waitFor((f) => payload(f)?.e === "aggTrade", { timeoutMs: 8000 });
    assert.equal(payload(trade!)?.s, after);
    const roll = new Map(
      ((await getJson(`${sim.coinm.restUrl}/dapi/v1/exchangeInfo`)).symbols as Record<string, unknown>[])
        .filter((s) => s.pair === "BTCUSD").map((s) => [s.symbol, [s.contractType, s.contractStatus]]),
    );
    assert.deepEqual(roll.get(CURRENT), ["CURRENT_QUARTER", "DELIVERING"]);
    assert.deepEqual(roll.get(next.symbol as string), ["CURRENT_QUARTER", "TRADING"]);
    assert.deepEqual(roll.get(after), ["NEXT_QUARTER", "TRADING"]);
    await client.close();
  });
});
