import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ClockAlert,
  type ClockSample,
  type MarketTimeSource,
  registerTimeSync,
  runTimeSync,
  type TimeSyncDeps,
} from "../../cron/time_sync.ts";
import { isoMicros } from "../../lib/storage/manifest.ts";
import { startNtpServer } from "../time/_ntp_server.ts";
import { fakeCron, onlyRegistration } from "./_fake_cron.ts";

const realMs = () => performance.timeOrigin + performance.now();

/** A Binance `/time` stand-in whose clock runs `skewMs` ahead of the local one. */
function market(market: "spot" | "usdm", skewMs: number): MarketTimeSource {
  return { market, serverTime: () => Promise.resolve({ value: Math.round(realMs() + skewMs) }) };
}

async function setup(skewMs: number) {
  const ntp = await startNtpServer({ skewMs });
  const logDir = await Deno.makeTempDir({ prefix: "time_sync_test_" });
  const stored: ClockSample[] = [];
  const alerts: ClockAlert[] = [];
  const deps: TimeSyncDeps = {
    ntp: { server: `127.0.0.1:${ntp.port}`, timeoutMs: 1000 },
    markets: [market("spot", 30), market("usdm", -150)],
    logDir,
    sink: { addClockSample: (s) => Promise.resolve(void stored.push(s)) },
    onAlert: (a) => alerts.push(a),
  };
  const cleanup = async () => {
    await ntp.close();
    await Deno.remove(logDir, { recursive: true });
  };
  return { deps, stored, alerts, logDir, cleanup };
}

async function logLines(logDir: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(logDir, "clock.jsonl"));
  return text.trimEnd().split("\n").map((l) => JSON.parse(l));
}

Deno.test("runTimeSync() measures NTP and both markets, stores, logs and alerts over 100 ms", async () => {
  const { deps, stored, alerts, logDir, cleanup } = await setup(250);
  try {
    const nowMs = Date.now();
    const result = await runTimeSync(deps, nowMs);
    assert.deepEqual(result.failures, []);
    assert.deepEqual(result.samples.map((s) => s.source), ["ntp", "binance-spot", "binance-usdm"]);
    const [ntp, spot, usdm] = result.samples as [ClockSample, ClockSample, ClockSample];
    assert.ok(Math.abs(ntp.offsetMs - 250) < 5, `ntp offset ${ntp.offsetMs}`);
    assert.equal(ntp.server, deps.ntp!.server);
    assert.ok(Math.abs(spot.offsetMs - 30) < 5, `spot offset ${spot.offsetMs}`);
    assert.ok(Math.abs(usdm.offsetMs + 150) < 5, `usdm offset ${usdm.offsetMs}`);
    for (const s of result.samples) {
      assert.ok(s.rttMs >= 0 && s.rttMs < 50 && s.atUs >= (nowMs - 1) * 1000, s.source);
      assert.ok(Number.isSafeInteger(s.atUs), "whole microseconds, as the ledger stores them");
    }

    assert.deepEqual(stored, result.samples);
    assert.deepEqual(alerts.map((a) => [a.kind, a.source, a.thresholdMs]), [
      ["clock", "ntp", 100],
      ["clock", "binance-usdm", 100],
    ]);
    assert.deepEqual(result.alerts, alerts);

    const lines = await logLines(logDir);
    assert.deepEqual(lines.map((l) => l.source), ["ntp", "binance-spot", "binance-usdm"]);
    assert.equal(lines[0]!.offset_ms, ntp.offsetMs);
    assert.equal(lines[2]!.rtt_ms, usdm.rttMs);
    assert.equal(lines[1]!.time, isoMicros(spot.atUs));
    assert.equal(lines[1]!.error, null);

    // Each run appends.
    await runTimeSync(deps, nowMs + 600_000);
    assert.equal((await logLines(logDir)).length, 6);
  } finally {
    await cleanup();
  }
});

Deno.test("runTimeSync() records failures without throwing, and honours the threshold", async () => {
  const { deps, stored, alerts, logDir, cleanup } = await setup(250);
  try {
    const failing: MarketTimeSource = {
      market: "usdm",
      serverTime: () => Promise.reject(new Error("HTTP 503")),
    };
    const result = await runTimeSync(
      { ...deps, markets: [market("spot", 30), failing], thresholdMs: 300 },
      1_767_225_600_000,
    );
    assert.deepEqual(result.samples.map((s) => s.source), ["ntp", "binance-spot"]);
    assert.deepEqual(result.failures, [
      { atUs: 1_767_225_600_000_000, source: "binance-usdm", server: null, error: "Error: HTTP 503" },
    ]);
    assert.deepEqual(alerts, [], "250 ms is within a 300 ms threshold");
    assert.equal(stored.length, 2, "failures are not stored as samples");
    const lines = await logLines(logDir);
    assert.deepEqual(lines[2], {
      time: "2026-01-01T00:00:00.000000Z",
      source: "binance-usdm",
      server: null,
      offset_ms: null,
      rtt_ms: null,
      error: "Error: HTTP 503",
    });
  } finally {
    await cleanup();
  }
});

Deno.test("runTimeSync() uses the injected clock for Binance offsets and can skip NTP", async () => {
  const { deps, cleanup } = await setup(0);
  try {
    const reads = [1000, 1040];
    const result = await runTimeSync({
      ...deps,
      ntp: null,
      markets: [{ market: "spot", serverTime: () => Promise.resolve({ value: 1220 }) }],
      clockMs: () => reads.shift()!,
    }, 0);
    assert.deepEqual(result.samples, [{
      atUs: 1_040_000,
      source: "binance-spot",
      server: null,
      offsetMs: 200,
      rttMs: 40,
    }]);
  } finally {
    await cleanup();
  }
});

Deno.test("registerTimeSync() registers every 10 minutes with a backoff schedule", async () => {
  const { deps, stored, cleanup } = await setup(0);
  try {
    const { cron, registered } = fakeCron();
    const job = registerTimeSync({ ...deps, ntp: null }, cron);
    const r = onlyRegistration(registered, "time_sync");
    assert.equal(r.schedule, "*/10 * * * *");
    assert.equal(job.name, "time_sync");
    await r.handler();
    assert.equal(stored.length, 2, "the handler runs the job");
  } finally {
    await cleanup();
  }
});
