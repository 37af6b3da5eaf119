import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../lib/sim/server.ts";
import { isObject, payload, sleep, TestClient } from "./_client.ts";

async function withSim(
  opts: Partial<SimulatorOptions>,
  fn: (sim: Simulator) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({
    symbols: ["BTCUSDT", "ETHUSDT"],
    seed: 7,
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

async function getJson(url: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

type Levels = Map<number, number>;

function applyLevels(side: Levels, levels: unknown): void {
  for (const [p, q] of levels as [string, string][]) {
    const qty = Number(q);
    if (qty === 0) side.delete(Number(p));
    else side.set(Number(p), qty);
  }
}

function top(side: Levels, n: number, bids: boolean): [number, number][] {
  return [...side.entries()].sort((a, b) => (bids ? b[0] - a[0] : a[0] - b[0])).slice(0, n);
}

Deno.test("startSimulator serves raw and combined spot streams with Binance shapes", async () => {
  await withSim({}, async (sim) => {
    const raw = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@depth@100ms`);
    const combined = await TestClient.open(
      `${sim.spot.wsUrl}/stream?streams=btcusdt@depth@100ms/ethusdt@bookTicker`,
    );
    const [diff] = await raw.waitFor((f) => isObject(f.json) && f.json.e === "depthUpdate");
    const d = diff!.json as Record<string, unknown>;
    assert.equal(d.s, "BTCUSDT");
    assert.ok(!("T" in d) && !("pu" in d), "spot diffs carry no T or pu");
    assert.match((d.b as string[][])[0]?.[0] ?? (d.a as string[][])[0]![0]!, /^\d+\.\d{8}$/);
    const [ticker] = await combined.waitFor((f) =>
      isObject(f.json) && f.json.stream === "ethusdt@bookTicker"
    );
    const t = (ticker!.json as { data: Record<string, unknown> }).data;
    assert.deepEqual(Object.keys(t), ["u", "s", "b", "B", "a", "A"]);
    const [wrapped] = await combined.waitFor((f) =>
      isObject(f.json) && f.json.stream === "btcusdt@depth@100ms"
    );
    assert.equal(payload(wrapped!)?.e, "depthUpdate");
    await raw.close();
    await combined.close();
  });
});

Deno.test("SUBSCRIBE, LIST_SUBSCRIPTIONS, UNSUBSCRIBE and properties reply by id", async () => {
  await withSim({}, async (sim) => {
    const c = await TestClient.open(`${sim.spot.wsUrl}/ws`);
    c.send({ method: "SUBSCRIBE", params: ["btcusdt@aggTrade", "ethusdt@depth@100ms"], id: 1 });
    assert.deepEqual(await c.reply(1), { result: null, id: 1 });
    c.send({ method: "LIST_SUBSCRIPTIONS", id: 2 });
    assert.deepEqual(await c.reply(2), { result: ["btcusdt@aggTrade", "ethusdt@depth@100ms"], id: 2 });
    await c.waitFor((f) => isObject(f.json) && f.json.e === "aggTrade" && f.json.s === "BTCUSDT");
    c.send({ method: "GET_PROPERTY", params: ["combined"], id: 3 });
    assert.deepEqual(await c.reply(3), { result: false, id: 3 });
    c.send({ method: "SET_PROPERTY", params: ["combined", true], id: 4 });
    assert.deepEqual(await c.reply(4), { result: null, id: 4 });
    const mark = c.frames.length;
    await c.waitFor((f) => isObject(f.json) && f.json.stream === "btcusdt@aggTrade", { from: mark });
    c.send({ method: "UNSUBSCRIBE", params: ["btcusdt@aggTrade"], id: 5 });
    assert.deepEqual(await c.reply(5), { result: null, id: 5 });
    await c.close();
    // USD-M (10 messages/s) replies with the flat error shape.
    const u = await TestClient.open(`${sim.usdm.wsUrl}/public/ws`);
    u.send({ method: "SUBSCRIBE", params: ["no stream here"], id: 6 });
    assert.deepEqual(await u.reply(6), { code: 2, msg: "Invalid request: invalid stream", id: 6 });
    u.send({ method: "SUBSCRIBE", params: ["btcusdt@depth"], id: "x" });
    assert.equal((await u.reply(null)).code, 2, "USD-M ids must be unsigned integers");
    await u.close();
  });
});

Deno.test("USD-M routed paths: a stream on the wrong route is listed but silent", async () => {
  await withSim({}, async (sim) => {
    const pub = await TestClient.open(
      `${sim.usdm.wsUrl}/public/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade`,
    );
    const market = await TestClient.open(
      `${sim.usdm.wsUrl}/market/stream?streams=btcusdt@aggTrade/btcusdt@bookTicker`,
    );
    await pub.waitFor((f) => isObject(f.json) && f.json.stream === "btcusdt@depth@100ms", { count: 3 });
    await market.waitFor((f) => isObject(f.json) && f.json.stream === "btcusdt@aggTrade", { count: 3 });
    await sleep(200);
    assert.ok(!pub.frames.some((f) => isObject(f.json) && f.json.stream === "btcusdt@aggTrade"));
    assert.ok(!market.frames.some((f) => isObject(f.json) && f.json.stream === "btcusdt@bookTicker"));
    pub.send({ method: "LIST_SUBSCRIPTIONS", id: 9 });
    assert.deepEqual((await pub.reply(9)).result, ["btcusdt@depth@100ms", "btcusdt@aggTrade"]);
    const [trade] = await market.waitFor((f) => isObject(f.json) && f.json.stream === "btcusdt@aggTrade");
    assert.ok("nq" in payload(trade!)! && !("M" in payload(trade!)!), "USD-M aggTrade has nq and no M");
    await pub.close();
    await market.close();
  });
});

Deno.test("diff chains over the wire: spot U == prev u + 1, USD-M pu == prev u with id jumps", async () => {
  await withSim({}, async (sim) => {
    const spot = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@depth@100ms`);
    const usdm = await TestClient.open(`${sim.usdm.wsUrl}/public/ws/btcusdt@depth@100ms`);
    const s = (await spot.waitFor((f) => payload(f)?.e === "depthUpdate", { count: 8 })).map((f) =>
      payload(f)!
    );
    // 30% of USD-M events start with an id jump: 30 events make "no jump at all" a 0.7^29 ≈ 3e-5 chance.
    const u = (await usdm.waitFor((f) => payload(f)?.e === "depthUpdate", { count: 30 })).map((f) =>
      payload(f)!
    );
    for (let i = 1; i < s.length; i++) assert.equal(s[i]!.U, (s[i - 1]!.u as number) + 1);
    for (let i = 1; i < u.length; i++) assert.equal(u[i]!.pu, u[i - 1]!.u);
    assert.ok(
      u.some((e, i) => i > 0 && e.U !== (u[i - 1]!.u as number) + 1),
      "USD-M ids jump between events",
    );
    assert.ok((u[0]!.u as number) > 4e12, "USD-M ids are around 5e12");
    assert.ok(typeof u[0]!.T === "number");
    await spot.close();
    await usdm.close();
  });
});

async function syncAndCompare(sim: Simulator, market: Market): Promise<void> {
  const ws = market === "spot"
    ? await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@depth@100ms`)
    : await TestClient.open(`${sim.usdm.wsUrl}/public/ws/btcusdt@depth@100ms`);
  await ws.waitFor((f) => payload(f)?.e === "depthUpdate");
  const path = market === "spot"
    ? "/api/v3/depth?symbol=BTCUSDT&limit=5000"
    : "/fapi/v1/depth?symbol=BTCUSDT&limit=1000";
  const snap = (await getJson(`${sim[market].restUrl}${path}`)).body as Record<string, unknown>;
  const lastId = snap.lastUpdateId as number;
  const bids: Levels = new Map();
  const asks: Levels = new Map();
  applyLevels(bids, snap.bids);
  applyLevels(asks, snap.asks);
  await ws.waitFor((f) => ((payload(f)?.u as number) ?? 0) > lastId, { count: 8, timeoutMs: 5000 });
  const events = ws.frames.map((f) => payload(f)!).filter((e) => e.e === "depthUpdate");
  const first = events[0]!;
  assert.ok(lastId >= (first.U as number) - 1, "snapshot is not older than the stream");
  const keep = events.filter((
    e,
  ) => (market === "spot" ? (e.u as number) > lastId : (e.u as number) >= lastId));
  const k0 = keep[0]!;
  if (market === "spot") assert.ok((k0.U as number) <= lastId + 1 && (k0.u as number) >= lastId + 1);
  else assert.ok((k0.U as number) <= lastId && (k0.u as number) >= lastId);
  let prev: number | null = null;
  for (const e of keep) {
    if (prev !== null) {
      if (market === "spot") assert.equal(e.U, prev + 1);
      else assert.equal(e.pu, prev);
    }
    applyLevels(bids, e.b);
    applyLevels(asks, e.a);
    prev = e.u as number;
    const truth = sim.truth.bookAt(market, "BTCUSDT", prev, 20);
    assert.deepEqual(top(bids, 20, true), truth.bids, `bids after ${prev}`);
    assert.deepEqual(top(asks, 20, false), truth.asks, `asks after ${prev}`);
  }
  assert.ok(keep.length >= 5);
  await ws.close();
}

Deno.test("snapshot-then-diffs sync (doc procedure) reproduces truth.bookAt on both markets", async () => {
  await withSim({}, async (sim) => {
    await syncAndCompare(sim, "spot");
    await syncAndCompare(sim, "usdm");
  });
});

Deno.test("REST weights: header on every response, then 429, then 418 with Retry-After", async () => {
  await withSim({ weightPerMinute: { spot: 50 }, banMs: 60_000 }, async (sim) => {
    const url = `${sim.spot.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=100`;
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 12; i++) {
      last = await fetch(url);
      statuses.push(last.status);
      assert.ok(last.headers.get("x-mbx-used-weight-1m") !== null);
      if (i < 11) await last.body?.cancel();
    }
    assert.deepEqual(statuses.slice(0, 10), new Array(10).fill(200));
    assert.equal(statuses[10], 429);
    assert.equal(statuses[11], 418);
    assert.ok(Number(last!.headers.get("retry-after")) >= 59);
    assert.equal(((await last!.json()) as { code: number }).code, -1003);
    const usdm = await getJson(`${sim.usdm.restUrl}/fapi/v1/time`);
    assert.equal(usdm.status, 200, "the markets have separate limits");
    assert.equal(usdm.headers.get("x-mbx-used-weight-1m"), "1");
  });
});

Deno.test("REST errors use Binance's JSON shape", async () => {
  await withSim({}, async (sim) => {
    const bad = await getJson(`${sim.spot.restUrl}/api/v3/depth?symbol=NOPE`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { code: -1121, msg: "Invalid symbol." });
    const limit = await getJson(`${sim.usdm.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=7`);
    assert.equal((limit.body as { code: number }).code, -1130);
    const info = await getJson(`${sim.usdm.restUrl}/fapi/v1/exchangeInfo`);
    const limits = (info.body as { rateLimits: { rateLimitType: string; limit: number }[] }).rateLimits;
    assert.equal(limits.find((l) => l.rateLimitType === "REQUEST_WEIGHT")?.limit, 2400);
  });
});

Deno.test("connection lifetime closes the socket", async () => {
  await withSim({ lifetimeMs: 150 }, async (sim) => {
    const c = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@bookTicker`);
    const started = Date.now();
    const ev = await c.closed(2000);
    assert.equal(ev.code, 1001);
    assert.ok(Date.now() - started >= 100);
    assert.equal(sim.connectionCount(), 0);
  });
});

Deno.test("sending more than 5 messages per second closes a spot connection", async () => {
  await withSim({}, async (sim) => {
    const c = await TestClient.open(`${sim.spot.wsUrl}/ws`);
    // The sixth message within a second is one too many (messages after it would race the close).
    for (let i = 0; i < 6; i++) c.send({ method: "LIST_SUBSCRIPTIONS", id: i });
    assert.equal((await c.closed()).code, 1008);
    await c.waitFor((f) => isObject(f.json) && f.json.id === 4, { what: "reply to the fifth message" });
    assert.ok(
      !c.frames.some((f) => isObject(f.json) && f.json.id === 5),
      "the sixth message is not answered",
    );
  });
});

Deno.test("truth file gets JSON lines of the initial books and events", async () => {
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await withSim({ truth: false, truthFile: file, symbols: ["BTCUSDT"] }, async (sim) => {
      await sleep(250);
      assert.throws(() => sim.truth.diffs("spot", "BTCUSDT"), /not kept in memory/);
    });
    const lines = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
    const types = new Set(lines.map((l) => `${l.market}:${l.type}`));
    for (const t of ["spot:initialBook", "usdm:initialBook", "spot:depth", "usdm:depth", "spot:bookTicker"]) {
      assert.ok(types.has(t), `has ${t}`);
    }
    const init = lines.find((l) => l.type === "initialBook" && l.market === "spot");
    const firstDiff = lines.find((l) => l.type === "depth" && l.market === "spot");
    assert.equal(firstDiff.data.U, init.lastUpdateId + 1);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("every simulated stream kind pushes data with current event times", async () => {
  await withSim({ symbols: ["BTCUSDT"] }, async (sim) => {
    const spotStreams = ["depth", "depth@100ms", "aggTrade", "trade", "bookTicker", "kline_1s", "kline_1m"];
    const spot = await TestClient.open(
      `${sim.spot.wsUrl}/stream?streams=${spotStreams.map((s) => `btcusdt@${s}`).join("/")}`,
    );
    const pubStreams = ["depth", "depth@100ms", "depth@500ms", "bookTicker"];
    const pub = await TestClient.open(
      `${sim.usdm.wsUrl}/public/stream?streams=${pubStreams.map((s) => `btcusdt@${s}`).join("/")}`,
    );
    const mktStreams = ["aggTrade", "kline_1m", "markPrice@1s"];
    const mkt = await TestClient.open(
      `${sim.usdm.wsUrl}/market/stream?streams=${mktStreams.map((s) => `btcusdt@${s}`).join("/")}`,
    );
    const started = Date.now();
    for (const [client, names] of [[spot, spotStreams], [pub, pubStreams], [mkt, mktStreams]] as const) {
      for (const name of names) {
        const [f] = await client.waitFor((f) => isObject(f.json) && f.json.stream === `btcusdt@${name}`, {
          timeoutMs: 3000,
          what: name,
        });
        const data = payload(f!)!;
        if (typeof data.E === "number") {
          assert.ok(Math.abs(data.E - Date.now()) < 3000, `${name} E is current`);
        }
      }
    }
    const [closed] = await spot.waitFor((f) => {
      const k = payload(f)?.k;
      return isObject(k) && k.i === "1s" && k.x === true;
    });
    const k = payload(closed!)!.k as { t: number; T: number };
    assert.equal(k.T - k.t, 999);
    const mark = mkt.frames.map(payload).find((d) => d?.e === "markPriceUpdate")!;
    assert.ok((mark.T as number) > started && typeof mark.r === "string");
    const trade = spot.frames.map(payload).find((d) => d?.e === "trade")!;
    assert.ok(typeof trade.t === "number" && trade.M === true);
    await spot.close();
    await pub.close();
    await mkt.close();
  });
});
