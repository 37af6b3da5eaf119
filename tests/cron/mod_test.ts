import assert from "node:assert/strict";
import { registerCronJobs, runStartupJobs } from "../../cron/mod.ts";
import type { Level } from "../../lib/log.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { fakeCron, onlyRegistration } from "./_fake_cron.ts";

Deno.test("registerCronJobs() registers the jobs given deps, each with a backoff schedule", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cron_mod_" });
  try {
    const { cron, registered } = fakeCron();
    const flushes: string[] = [];
    const manifest = await Manifest.load(dataDir);
    const jobs = registerCronJobs({
      flush: { flush: (r) => Promise.resolve(void flushes.push(r)), lastFlushMs: () => 0, intervalMs: 1000 },
      compact: { manifest },
      timeSync: { ntp: null, markets: [], logDir: `${dataDir}/logs` },
      environment: { dataDir, configPath: "x", lockPath: "y", repoDir: dataDir },
    }, cron);
    assert.deepEqual(registered.map((r) => r.name), ["flush", "compact", "time_sync", "environment"]);
    for (const r of registered) onlyRegistration([r], r.name);
    assert.equal(jobs.funding, undefined, "no funding deps, no funding job");

    // Start-up runs: environment, compaction, clock, (funding) — not the flush safety net.
    const logged: [Level, string][] = [];
    const failed = await runStartupJobs(
      jobs,
      (level, message) => logged.push([level, message]),
      Date.UTC(2026, 5, 1),
    );
    assert.deepEqual(failed, []);
    assert.deepEqual(flushes, []);
    assert.ok((await Deno.stat(`${dataDir}/_meta/environment-2026-06-01.json`)).isFile);
    assert.deepEqual(logged, []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("runStartupJobs() logs and returns the jobs that failed, after running the others", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cron_mod_" });
  try {
    const { cron } = fakeCron();
    const rest = {
      fundingRate: () => Promise.reject(new Error("HTTP 503")),
      premiumIndex: () => Promise.resolve({ text: "[]", value: [] }),
    };
    const jobs = registerCronJobs({
      funding: [{
        market: "usdm",
        rest,
        journal: { fundingRates: () => {}, premiumIndex: () => {} },
        history: { lastFundingTime: () => Promise.resolve(null), noteWritten: () => {} },
        symbols: ["BTCUSDT"],
        markPriceSymbols: [],
      }],
      environment: { dataDir, configPath: "x", lockPath: "y", repoDir: dataDir },
    }, cron);
    const logged: [Level, string, unknown][] = [];
    const failed = await runStartupJobs(
      jobs,
      (level, message, fields) => logged.push([level, message, fields?.job]),
    );
    assert.deepEqual(failed, ["funding"]);
    assert.deepEqual(logged, [["error", "start-up cron run failed", "funding"]]);
    assert.equal([...Deno.readDirSync(`${dataDir}/_meta`)].length, 1, "the environment job still ran");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the jobs register with the real Deno.cron (--unstable-cron via deno.json) and stop on abort", () => {
  const controller = new AbortController();
  const jobs = registerCronJobs(
    {
      flush: { flush: () => Promise.resolve(), lastFlushMs: () => Date.now(), intervalMs: 60_000 },
    },
    undefined,
    controller.signal,
  );
  assert.equal(jobs.flush?.name, "flush");
  controller.abort();
});
