import assert from "node:assert/strict";
import type { DiffFaultRecord } from "../../lib/sim/truth.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../lib/sim/server.ts";
import { isObject, payload, sleep, TestClient, upgradeResponse } from "./_client.ts";

async function withSim(
  opts: Partial<SimulatorOptions>,
  fn: (sim: Simulator) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 11, tickMs: 5, truth: true, ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

type Diff = { U: number; u: number; pu?: number };

async function spotDiffs(sim: Simulator, count: number): Promise<{ client: TestClient; diffs: Diff[] }> {
  const client = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@depth@100ms`);
  const frames = await client.waitFor((f) => payload(f)?.e === "depthUpdate", { count, timeoutMs: 5000 });
  return { client, diffs: frames.map((f) => payload(f) as unknown as Diff) };
}

const diffRecords = (sim: Simulator, action: string) =>
  sim.truth.faults("spot", "BTCUSDT").filter((f): f is DiffFaultRecord => f.action === action);

Deno.test("dropDiffs: dropped events leave gaps, and each dropped diff lies inside a gap", async () => {
  await withSim({}, async (sim) => {
    const { client } = await spotDiffs(sim, 2);
    sim.faults.dropDiffs = { market: "spot", symbol: "BTCUSDT", count: 3 };
    const frames = await client.waitFor((f) => payload(f)?.e === "depthUpdate", {
      count: 10,
      timeoutMs: 5000,
    });
    const diffs = frames.map((f) => payload(f) as unknown as Diff);
    const dropped = diffRecords(sim, "drop");
    assert.equal(dropped.length, 3);
    assert.equal(sim.faults.dropDiffs.count, 0);
    const gaps = diffs.slice(1).map((d, i) => [diffs[i]!.u, d.U] as const).filter(([prev, next]) =>
      next !== prev + 1
    );
    assert.ok(gaps.length >= 1);
    for (const drop of dropped) {
      assert.ok(!diffs.some((d) => d.u === drop.finalUpdateId), "a dropped diff is never received");
      assert.ok(
        gaps.some(([prev, next]) => drop.firstUpdateId > prev && drop.finalUpdateId < next),
        `dropped [${drop.firstUpdateId}, ${drop.finalUpdateId}] is inside a gap`,
      );
    }
    await client.close();
  });
});

Deno.test("duplicateDiffs: the same diff arrives twice in a row", async () => {
  await withSim({ faults: { duplicateDiffs: { count: 2 } } }, async (sim) => {
    const { client, diffs } = await spotDiffs(sim, 8);
    const repeats = diffs.slice(1).filter((d, i) => d.u === diffs[i]!.u);
    assert.equal(repeats.length, 2);
    assert.deepEqual(repeats.map((d) => d.u), diffRecords(sim, "duplicate").map((r) => r.finalUpdateId));
    await client.close();
  });
});

Deno.test("delayDiffs: a held-back diff arrives after later ones", async () => {
  await withSim({}, async (sim) => {
    sim.faults.delayDiffs = { count: 1, delayMs: 250 };
    const { client, diffs } = await spotDiffs(sim, 8);
    const late = diffs.findIndex((d, i) => i > 0 && d.u < diffs[i - 1]!.u);
    assert.ok(late > 0, "an out-of-order diff was received");
    assert.equal(diffs[late]!.u, diffRecords(sim, "delay")[0]!.finalUpdateId);
    await client.close();
  });
});

Deno.test("disconnect: one-shot closes every connection, everyMs keeps doing it", async () => {
  await withSim({}, async (sim) => {
    const a = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@bookTicker`);
    const b = await TestClient.open(`${sim.usdm.wsUrl}/public/ws/btcusdt@bookTicker`);
    sim.faults.disconnect = {};
    assert.equal((await a.closed()).code, 1011);
    assert.equal((await b.closed()).code, 1011);
    assert.equal(sim.faults.disconnect, null, "a one-shot fault clears itself");
    sim.faults.disconnect = { everyMs: 100, market: "usdm" };
    const c = await TestClient.open(`${sim.usdm.wsUrl}/public/ws/btcusdt@bookTicker`);
    await c.closed();
    const d = await TestClient.open(`${sim.usdm.wsUrl}/public/ws/btcusdt@bookTicker`);
    await d.closed();
    sim.faults.disconnect = null;
    const events = sim.truth.faults().filter((f) => f.action === "disconnect");
    assert.ok(events.length >= 3);
    assert.equal(sim.disconnectAll(), 0);
  });
});

Deno.test("refuseConnectionsUntil: upgrades fail until the time passes", async () => {
  await withSim({}, async (sim) => {
    sim.faults.refuseConnectionsUntil = Date.now() + 300;
    await assert.rejects(TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@bookTicker`));
    await sleep(350);
    const c = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@bookTicker`);
    await c.waitFor((f) => payload(f)?.s === "BTCUSDT");
    await c.close();
  });
});

Deno.test("refuseConnectionsStatus: refused upgrades answer 503 by default, or 429 with Retry-After", async () => {
  await withSim({}, async (sim) => {
    const url = `${sim.spot.wsUrl}/ws/btcusdt@bookTicker`;
    sim.faults.refuseConnectionsUntil = Date.now() + 60_000;
    assert.equal((await upgradeResponse(url)).status, 503);
    sim.faults.refuseConnectionsStatus = 429;
    const limited = await upgradeResponse(`${sim.usdm.wsUrl}/public/ws/btcusdt@bookTicker`);
    assert.equal(limited.status, 429);
    const wait = Number(limited.headers.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    sim.faults.refuseConnectionsUntil = 0;
    assert.equal((await upgradeResponse(url)).status, 101);
  });
});

Deno.test("rest fault: 5xx, injected 429 and hanging requests", async () => {
  await withSim({}, async (sim) => {
    const url = `${sim.spot.restUrl}/api/v3/time`;
    sim.faults.rest = { errorProbability: 1 };
    const err = await fetch(url);
    assert.equal(err.status, 503);
    await err.body?.cancel();
    sim.faults.rest = { rateLimitProbability: 1, market: "spot" };
    const limited = await fetch(url);
    assert.equal(limited.status, 429);
    assert.ok(limited.headers.has("retry-after"));
    await limited.body?.cancel();
    assert.equal((await fetch(`${sim.usdm.restUrl}/fapi/v1/time`)).status, 200, "other market unaffected");
    sim.faults.rest = { hangProbability: 1 };
    await assert.rejects(
      fetch(url, { signal: AbortSignal.timeout(150) }),
      (e: Error) => e.name === "TimeoutError",
    );
    sim.faults.rest = null;
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });
});

Deno.test("staleSnapshots: the snapshot is older than the stream", async () => {
  await withSim({}, async (sim) => {
    const { client, diffs } = await spotDiffs(sim, 1);
    const depth = `${sim.spot.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=100`;
    const fresh = await (await fetch(depth)).json();
    assert.ok(fresh.lastUpdateId >= diffs[0]!.U - 1);
    sim.faults.staleSnapshots = { symbol: "BTCUSDT" };
    const stale = await (await fetch(depth)).json();
    assert.ok(stale.lastUpdateId < diffs[0]!.U, "a stale snapshot must be refetched per the doc procedure");
    await client.close();
  });
});

Deno.test("garbage and unknownFields: junk frames and extra fields reach the client", async () => {
  await withSim({}, async (sim) => {
    const c = await TestClient.open(`${sim.spot.wsUrl}/stream?streams=btcusdt@depth@100ms`);
    sim.faults.garbage = { probability: 1 };
    await c.waitFor((f) => f.json === undefined, { what: "non-JSON frame" });
    await c.waitFor((f) => isObject(f.json) && f.json.stream === "sim@unknown", { what: "unknown event" });
    sim.faults.garbage = null;
    sim.faults.unknownFields = true;
    const mark = c.frames.length;
    const [diff] = await c.waitFor((f) => payload(f)?.e === "depthUpdate", { from: mark });
    assert.equal(payload(diff!)?.zz, "sim");
    await c.close();
  });
});

Deno.test("burst: one step makes a huge diff", async () => {
  await withSim({}, async (sim) => {
    await sleep(150);
    const before = Math.max(...sim.truth.diffs("spot", "BTCUSDT").map((d) => d.bids.length + d.asks.length));
    sim.faults.burst = { market: "spot", updates: 3000, trades: 100 };
    await sleep(250);
    assert.equal(sim.faults.burst, null);
    const after = Math.max(...sim.truth.diffs("spot", "BTCUSDT").map((d) => d.bids.length + d.asks.length));
    assert.ok(after > 5 * before, `burst diff has ${after} levels vs ${before} before`);
  });
});

Deno.test("serverShutdown: spot clients get the notice, then the socket closes", async () => {
  await withSim({}, async (sim) => {
    const combined = await TestClient.open(`${sim.spot.wsUrl}/stream?streams=btcusdt@bookTicker`);
    const raw = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@bookTicker`);
    const usdm = await TestClient.open(`${sim.usdm.wsUrl}/public/ws/btcusdt@bookTicker`);
    sim.faults.serverShutdown = { closeAfterMs: 100 };
    const [notice] = await combined.waitFor((f) => isObject(f.json) && f.json.stream === "!serverShutdown");
    assert.equal(payload(notice!)?.e, "serverShutdown");
    await raw.waitFor((f) => isObject(f.json) && f.json.e === "serverShutdown");
    assert.equal((await combined.closed()).code, 1001);
    await raw.closed();
    assert.equal(usdm.closeEvent, null, "USD-M has no serverShutdown");
    await usdm.close();
  });
});

Deno.test("lifetimeMs switch applies to connections opened afterwards", async () => {
  await withSim({}, async (sim) => {
    const long = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@bookTicker`);
    sim.faults.lifetimeMs = 100;
    const short = await TestClient.open(`${sim.spot.wsUrl}/ws/btcusdt@bookTicker`);
    assert.equal((await short.closed()).code, 1001);
    assert.equal(long.closeEvent, null);
    await long.close();
  });
});
