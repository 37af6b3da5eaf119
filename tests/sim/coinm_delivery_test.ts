/**
 * COIN-M deliveries, sans I/O: an exchange stepped with made-up times, with listing changes and deliveries
 * applied as the server applies them, and the ground truth recording what happened.
 */
import assert from "node:assert/strict";
import { deliverySymbol, quarterlyAfter } from "../../lib/sim/coinm_contracts.ts";
import type { SimEvent } from "../../lib/sim/events.ts";
import { Exchange, type ExchangeOptions } from "../../lib/sim/exchange.ts";
import { exchangeInfo } from "../../lib/sim/exchange_info.ts";
import type { ListingChange } from "../../lib/sim/faults.ts";
import { applyListingChanges, type ListingTarget } from "../../lib/sim/listing_changes.ts";
import { GroundTruth } from "../../lib/sim/truth.ts";
import { generateUniverse } from "../../lib/sim/universe.ts";

const T0 = 1_767_225_600_000; // 2026-01-01
const Q1 = quarterlyAfter(T0); // 2026-03-27 08:00
const Q2 = quarterlyAfter(Q1);
const Q3 = quarterlyAfter(Q2);

/** An exchange from `start`, with truth, stepped every 10 ms by `run`, applying `queue` at every step. */
function market(options: ExchangeOptions, start: number, rollQuarters: boolean) {
  const exchange = new Exchange({ seed: 2, ...options }, start);
  const truth = new GroundTruth({ memory: true });
  for (const e of exchange.engines()) truth.addSymbol(e.spec, e.initial);
  const target: ListingTarget = { exchange, truth, recordBooks: true, startedAt: start, rollQuarters };
  const queue: ListingChange[] = [];
  const events: SimEvent[] = [];
  let now = start;
  const run = (ms: number) => {
    for (const end = now + ms; now < end;) {
      now += 10;
      applyListingChanges(queue, target, now);
      for (const e of exchange.step(now, null)) {
        truth.record(e);
        events.push(e);
      }
    }
  };
  const info = (symbol: string) => {
    const body = exchangeInfo("coinm", exchange.listed("coinm"), { weightPerMinute: 6000, serverTime: now });
    return (body.symbols as Record<string, unknown>[]).find((s) => s.symbol === symbol);
  };
  return { exchange, truth, queue, events, run, info };
}

Deno.test("a contract delivers at its name's date by itself: DELIVERING, silent after, recorded", () => {
  const q1 = deliverySymbol("ETHUSD", Q1);
  const { exchange, truth, events, run, info } = market(
    { symbols: ["ETHUSD_PERP", q1] },
    Q1 - 2000,
    false,
  );
  run(4000);
  assert.equal(exchange.status("coinm", q1), "DELIVERING");
  assert.deepEqual(truth.listings("coinm", q1), [
    { action: "deliver", market: "coinm", symbol: q1, status: "DELIVERING", time: Q1 },
  ]);
  const mine = events.filter((e) => e.spec.symbol === q1);
  assert.ok(mine.some((e) => e.kind === "depth") && mine.some((e) => e.kind === "aggTrade"));
  assert.ok(mine.every((e) => e.eventTime <= Q1), "nothing after the delivery");
  assert.ok(
    events.some((e) => e.spec.symbol === "ETHUSD_PERP" && e.eventTime > Q1 + 1000),
    "the perp goes on",
  );
  assert.deepEqual([info(q1)!.contractStatus, info(q1)!.deliveryDate], ["DELIVERING", Q1]);
  // Mark prices as a client parses them: a delivery contract has no funding rate or time.
  const marks = truth.markPrices("coinm", q1);
  assert.ok(marks.length >= 1 && marks.every((m) => m.fundingRate === null && m.nextFundingTime === null));
  assert.ok(
    truth.markPrices("coinm", "ETHUSD_PERP").every((m) =>
      m.fundingRate !== null && m.nextFundingTime! > m.eventTime
    ),
  );
  assert.equal(exchange.listed("coinm").length, 2, "no next quarter without the whole market");
  // A contract whose date has passed cannot be listed.
  assert.throws(
    () => exchange.list({ market: "coinm", symbol: deliverySymbol("SOLUSD", Q1) }, Q1 + 5000),
    /delivered at 2026-03-27T08:00/,
  );
});

Deno.test("the deliver change moves the delivery time (announced at once); a whole market rolls to the next quarter", () => {
  const listings = generateUniverse({ seed: 4, size: { spot: 0, usdm: 0, coinm: 8 }, now: T0 });
  assert.deepEqual(listings.map((l) => l.symbol), [
    "BTCUSD_PERP",
    deliverySymbol("BTCUSD", Q1),
    deliverySymbol("BTCUSD", Q2),
    "ETHUSD_PERP",
    deliverySymbol("ETHUSD", Q1),
    deliverySymbol("ETHUSD", Q2),
    "SOLUSD_PERP",
    "BNBUSD_PERP",
  ]);
  const q1 = deliverySymbol("BTCUSD", Q1);
  const q2 = deliverySymbol("BTCUSD", Q2);
  const q3 = deliverySymbol("BTCUSD", Q3);
  const { exchange, truth, queue, events, run, info } = market({ listings }, T0, true);
  queue.push({ action: "deliver", market: "coinm", symbol: q1, afterMs: 1500 });
  run(10);
  assert.equal(queue.length, 0, "scheduled at once");
  assert.deepEqual([info(q1)!.deliveryDate, info(q1)!.contractStatus], [T0 + 1500, "TRADING"]);
  run(2990);
  assert.deepEqual(truth.listings("coinm").map((l) => [l.action, l.symbol, l.status, l.time]), [
    ["deliver", q1, "DELIVERING", T0 + 1500],
    ["list", q3, "TRADING", T0 + 1500],
  ]);
  assert.deepEqual([q1, q2, q3].map((s) => [info(s)!.contractType, info(s)!.contractStatus]), [
    ["CURRENT_QUARTER", "DELIVERING"],
    ["CURRENT_QUARTER", "TRADING"],
    ["NEXT_QUARTER", "TRADING"],
  ]);
  assert.deepEqual([info(q3)!.deliveryDate, info(q3)!.onboardDate, info(q3)!.contractSize], [Q3, Q1, 100]);
  // The new contract streams from the roll on, near the delivered one's price, with a truth book.
  const fresh = events.filter((e) => e.spec.symbol === q3);
  assert.ok(fresh.some((e) => e.kind === "depth") && fresh.every((e) => e.eventTime >= T0 + 1500));
  const price = (s: string) => exchange.engine("coinm", s)!.spec.basePriceTicks;
  assert.ok(Math.abs(price(q3) / price(q1) - 1) < 0.05);
  assert.ok(truth.bookAt("coinm", q3, truth.initialBook("coinm", q3).lastUpdateId, 5).bids.length === 5);
  // Refused: not COIN-M, a perpetual, delivered already; halting a delivered contract.
  queue.push(
    { action: "deliver", market: "usdm", symbol: "BTCUSDT" },
    { action: "deliver", market: "coinm", symbol: "ETHUSD_PERP" },
    { action: "deliver", market: "coinm", symbol: q1 },
    { action: "halt", market: "coinm", symbol: q1 },
  );
  run(10);
  const errors = truth.listings().filter((l) => l.error !== undefined).map((l) => l.error);
  assert.equal(errors.length, 4);
  assert.match(errors[0]!, /only COIN-M contracts deliver/);
  assert.match(errors[1]!, /ETHUSD_PERP: it is a perpetual/);
  assert.match(errors[2]!, /has been delivered/);
  assert.match(errors[3]!, /has been delivered/);
});
