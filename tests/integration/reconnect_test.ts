/**
 * Back quickly once the server is back: the simulator drops the spot connection and refuses upgrades for a few
 * seconds (HTTP 503), as an exchange restart does. Every attempt in the outage's first minute is planned 1–2 s
 * after the last (never the doubling that left a 20 s hole after a 3 s refusal), and the collector is subscribed
 * again soon after the server accepts; the time is printed for the benchmark notes.
 */
import assert from "node:assert/strict";
import { startApp } from "../../lib/app.ts";
import type { Logger } from "../../lib/log.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { simConfig, sleep, waitFor } from "./_harness.ts";

Deno.test("reconnect: a 3 s refusal (HTTP 503) is retried every 1–2 s and the stream is back soon after", async () => {
  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 4, tickMs: 10 });
  const dataDir = await Deno.makeTempDir({ prefix: "reconnect-" });
  const delays: { cause: unknown; ms: unknown }[] = [];
  const log: Logger = (_level, message, fields) => {
    if (message === "disconnected" && fields?.market === "spot") {
      delays.push({ cause: fields.cause, ms: fields.reconnectInMs });
    }
  };
  const app = await startApp(simConfig(sim, dataDir, { usdm: false, spotStreams: ["aggTrade"] }), log);
  const spot = () => app.collector.status().find((m) => m.market === "spot")!.connections[0]!;
  try {
    await waitFor("subscribed", () => spot().state === "subscribed");
    await sleep(500);
    const refuseMs = 3000;
    sim.faults.refuseConnectionsUntil = Date.now() + refuseMs;
    sim.faults.disconnect = { market: "spot" };
    await waitFor("disconnected", () => spot().state !== "subscribed");
    const acceptsAgain = sim.faults.refuseConnectionsUntil;
    await waitFor("subscribed again", () => spot().state === "subscribed", 30_000);
    const backMs = Date.now() - acceptsAgain;
    console.log(`server accepts again → resubscribed: ${backMs} ms (attempts: ${delays.length})`);
    assert.ok(delays.length >= 2, `the refusals were retried: ${JSON.stringify(delays)}`);
    for (const d of delays) {
      assert.ok(typeof d.ms === "number" && d.ms >= 1000 && d.ms <= 2000, `a first-minute delay: ${d.ms}`);
    }
    assert.ok(delays.some((d) => d.cause === "error"), "refused upgrades were among the attempts");
  } finally {
    await app.stop();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("reconnect: a rate-limited upgrade (HTTP 429) waits 5–7.5 s between attempts, not a long-outage delay", async () => {
  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 5, tickMs: 10 });
  const dataDir = await Deno.makeTempDir({ prefix: "reconnect-429-" });
  const closes: { cause: unknown; retry: unknown; ms: unknown }[] = [];
  const log: Logger = (_level, message, fields) => {
    if (message === "disconnected" && fields?.market === "spot") {
      closes.push({ cause: fields.cause, retry: fields.retry, ms: fields.reconnectInMs });
    }
  };
  const app = await startApp(simConfig(sim, dataDir, { usdm: false, spotStreams: ["aggTrade"] }), log);
  const spot = () => app.collector.status().find((m) => m.market === "spot")!.connections[0]!;
  try {
    await waitFor("subscribed", () => spot().state === "subscribed");
    sim.faults.refuseConnectionsStatus = 429;
    sim.faults.refuseConnectionsUntil = Date.now() + 3000;
    sim.faults.disconnect = { market: "spot" };
    await waitFor("subscribed again", () => closes.length >= 2 && spot().state === "subscribed", 30_000);
    const refused = closes.filter((c) => c.retry === "throttled");
    assert.ok(refused.length >= 1, `a 429 was met: ${JSON.stringify(closes)}`);
    for (const c of refused) {
      assert.ok(typeof c.ms === "number" && c.ms >= 5000 && c.ms <= 7500, `a throttled delay: ${c.ms}`);
    }
  } finally {
    await app.stop();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
