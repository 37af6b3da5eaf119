import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../lib/sim/server.ts";
import type { ListingRecord } from "../../lib/sim/truth.ts";
import { type Frame, payload, TestClient, WaitTimeoutError } from "./_client.ts";

async function withSim(
  opts: Partial<SimulatorOptions>,
  fn: (sim: Simulator) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 21, tickMs: 5, truth: true, ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

async function statusOf(sim: Simulator, market: Market, symbol: string): Promise<string | undefined> {
  const path = market === "spot" ? "/api/v3/exchangeInfo" : "/fapi/v1/exchangeInfo";
  const info = await (await fetch(`${sim[market].restUrl}${path}`)).json();
  return (info.symbols as { symbol: string; status: string }[]).find((s) => s.symbol === symbol)?.status;
}

/** Waits until the truth has a listing record for (market, symbol, action). */
async function recorded(
  sim: Simulator,
  market: Market,
  symbol: string,
  action: string,
): Promise<ListingRecord> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = sim.truth.listings(market, symbol).find((l) => l.action === action);
    if (r !== undefined) return r;
    if (Date.now() > deadline) throw new WaitTimeoutError(`listing ${action} of ${market} ${symbol}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const field = (f: Frame, name: string) => Number(payload(f)?.[name]);

Deno.test("list at run time: a new symbol appears as TRADING in exchangeInfo and starts streaming", async () => {
  await withSim({}, async (sim) => {
    assert.equal(await statusOf(sim, "spot", "NEWUSDT"), undefined);
    // Subscribed before it exists (Binance accepts any name): data flows once it is listed.
    const client = await TestClient.open(
      `${sim.spot.wsUrl}/stream?streams=newusdt@depth@100ms/newusdt@aggTrade`,
    );
    sim.faults.listingChanges.push({ action: "list", market: "spot", symbol: "NEWUSDT", rate: 200 });
    const record = await recorded(sim, "spot", "NEWUSDT", "list");
    assert.equal(record.status, "TRADING");
    assert.equal(record.error, undefined);
    assert.equal(await statusOf(sim, "spot", "NEWUSDT"), "TRADING");
    assert.equal(await statusOf(sim, "usdm", "NEWUSDT"), undefined, "listed on one market only");
    const [diff] = await client.waitFor((f) => payload(f)?.e === "depthUpdate", { timeoutMs: 5000 });
    assert.equal(payload(diff!)?.s, "NEWUSDT");
    assert.ok(field(diff!, "E") >= record.time);
    // The truth knows its initial book, and the first diff continues from it.
    assert.equal(payload(diff!)?.U, sim.truth.initialBook("spot", "NEWUSDT").lastUpdateId + 1);
    const depth = await (await fetch(`${sim.spot.restUrl}/api/v3/depth?symbol=NEWUSDT&limit=5`)).json();
    assert.equal(depth.bids.length, 5);
    assert.equal(sim.faults.listingChanges.length, 0, "applied changes leave the queue");
    await client.close();
  });
});

Deno.test("halt and delist stop a symbol's streams (truth records when); resume restarts them", async () => {
  await withSim({ symbols: ["BTCUSDT", "ETHUSDT"] }, async (sim) => {
    const spot = await TestClient.open(
      `${sim.spot.wsUrl}/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker`,
    );
    const usdm = await TestClient.open(
      `${sim.usdm.wsUrl}/market/stream?streams=ethusdt@kline_1m/btcusdt@kline_1m`,
    );
    await spot.waitFor((f) => payload(f)?.s === "BTCUSDT");
    await usdm.waitFor((f) => payload(f)?.s === "ETHUSDT");
    sim.faults.listingChanges.push(
      { action: "halt", market: "spot", symbol: "BTCUSDT" },
      { action: "delist", market: "usdm", symbol: "ETHUSDT" },
    );
    const halt = await recorded(sim, "spot", "BTCUSDT", "halt");
    const delist = await recorded(sim, "usdm", "ETHUSDT", "delist");
    assert.deepEqual([halt.status, delist.status], ["HALT", "BREAK"]);
    assert.equal(await statusOf(sim, "spot", "BTCUSDT"), "HALT");
    assert.equal(await statusOf(sim, "usdm", "ETHUSDT"), "BREAK");
    const truthTickers = sim.truth.bookTickers("spot", "BTCUSDT");
    assert.ok(truthTickers.every((t) => t.time <= halt.time), "the truth stops at the halt");
    const lastU = truthTickers.at(-1)!.updateId;
    // The other symbols go on; once they have streamed well past the halt, nothing new came for the stopped ones.
    const spotFrom = spot.frames.length;
    await spot.waitFor((f) => payload(f)?.s === "ETHUSDT", { from: spotFrom, count: 20, timeoutMs: 5000 });
    await usdm.waitFor((f) => payload(f)?.s === "BTCUSDT" && field(f, "E") > delist.time, {
      count: 3,
      timeoutMs: 5000,
    });
    const btc = spot.frames.filter((f) => payload(f)?.s === "BTCUSDT");
    assert.ok(btc.every((f) => field(f, "u") <= lastU), "no BTCUSDT bookTicker made after the halt");
    const eth = usdm.frames.filter((f) => payload(f)?.s === "ETHUSDT");
    assert.ok(eth.every((f) => field(f, "E") <= delist.time), "no ETHUSDT kline after the delisting");
    sim.faults.listingChanges.push({ action: "resume", market: "spot", symbol: "BTCUSDT" });
    const resume = await recorded(sim, "spot", "BTCUSDT", "resume");
    assert.equal(resume.status, "TRADING");
    await spot.waitFor((f) => payload(f)?.s === "BTCUSDT" && field(f, "u") > lastU, { timeoutMs: 5000 });
    assert.equal(await statusOf(sim, "spot", "BTCUSDT"), "TRADING");
    await spot.close();
    await usdm.close();
  });
});

Deno.test("listing changes wait for afterMs; refused ones are recorded with the reason", async () => {
  await withSim({}, async (sim) => {
    const afterMs = Date.now() - sim.startedAt + 300;
    sim.faults.listingChanges.push(
      { action: "list", market: "spot", symbol: "BTCUSDT" },
      { action: "delist", market: "usdm", symbol: "NOPEUSDT" },
      { action: "halt", market: "spot", symbol: "BTCUSDT", afterMs },
      { action: "delist", market: "usdm", symbol: "BTCUSDT", afterMs: afterMs + 600_000 },
    );
    const refused = await recorded(sim, "spot", "BTCUSDT", "list");
    assert.match(refused.error!, /already listed/);
    assert.equal(refused.status, "TRADING");
    assert.match((await recorded(sim, "usdm", "NOPEUSDT", "delist")).error!, /not listed/);
    const halt = await recorded(sim, "spot", "BTCUSDT", "halt");
    assert.ok(halt.time >= sim.startedAt + afterMs, "applied no earlier than afterMs");
    assert.equal(sim.exchange.status("spot", "BTCUSDT"), "HALT");
    assert.deepEqual(
      sim.faults.listingChanges.map((c) => c.action),
      ["delist"],
      "a later change stays queued",
    );
    assert.equal(sim.exchange.status("usdm", "BTCUSDT"), "TRADING");
  });
});

Deno.test("truth JSON lines carry listing changes", async () => {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await withSim({ truth: false, truthFile: file }, async (sim) => {
      sim.faults.listingChanges.push({ action: "list", market: "usdm", symbol: "NEWUSDT" });
      const deadline = Date.now() + 5000;
      while (!sim.exchange.engine("usdm", "NEWUSDT") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const lines = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
    const i = lines.findIndex((l) => l.type === "listing");
    assert.ok(i > 0);
    assert.deepEqual(
      { ...lines[i], time: 0 },
      { type: "listing", action: "list", market: "usdm", symbol: "NEWUSDT", status: "TRADING", time: 0 },
    );
    assert.ok(
      lines.slice(0, i).some((l) =>
        l.type === "initialBook" && l.symbol === "NEWUSDT" && l.market === "usdm"
      ),
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("startSimulator({ symbols: 'all' }): a generated market with windowed truth; a new listing joins it", async () => {
  await withSim({ symbols: "all", universe: { spot: 60, usdm: 20 }, seed: 4 }, async (sim) => {
    assert.deepEqual([sim.exchange.listed("spot").length, sim.exchange.listed("usdm").length], [60, 20]);
    const quiet = sim.exchange.listed("spot").findLast((l) => l.status === "TRADING")!.engine.spec.symbol;
    const client = await TestClient.open(
      `${sim.spot.wsUrl}/stream?streams=btcusdt@depth@100ms/${quiet.toLowerCase()}@kline_1s/fresh1usdt@aggTrade`,
    );
    const [diff] = await client.waitFor((f) => payload(f)?.s === "BTCUSDT", { timeoutMs: 5000 });
    assert.ok(sim.truth.bookAt("spot", "BTCUSDT", field(diff!, "u"), 5).bids.length === 5);
    await client.waitFor((f) => payload(f)?.s === quiet, { timeoutMs: 5000 });
    sim.faults.listingChanges.push({ action: "list", market: "spot", symbol: "FRESH1USDT", rate: 300 });
    await client.waitFor((f) => payload(f)?.s === "FRESH1USDT", { timeoutMs: 5000 });
    assert.equal((await recorded(sim, "spot", "FRESH1USDT", "list")).status, "TRADING");
    assert.ok(sim.truth.trades("spot", "FRESH1USDT").length > 0);
    await client.close();
  });
});
