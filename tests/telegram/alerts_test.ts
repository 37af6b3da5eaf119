import assert from "node:assert/strict";
import { type Alert, AlertCoalescer, groupOf, MAX_SUBJECTS } from "../../lib/telegram/alerts.ts";

const reconnect = (conn: string, downtimeMs = 1000, market: "spot" | "usdm" = "spot"): Alert => ({
  kind: "reconnect",
  market,
  conn,
  downtimeMs,
});

const gap = (symbol: string, kind: string, seconds: number): Alert => ({
  kind: "gap",
  market: "usdm",
  gap: {
    symbol,
    stream: "depth@100ms",
    kind,
    start_time: 1_000_000,
    end_time: 1_000_000 + seconds * 1e6,
    last_update_id: 10,
    resume_update_id: 20,
    reason: "pu mismatch",
  },
});

/** A script step: push alerts at a time, or check what `due()` hands out at a time. */
type Step = { at: number; push: Alert[] } | { at: number; due: (string | RegExp)[] };

interface Case {
  name: string;
  settleMs?: number;
  steps: Step[];
}

const CASES: Case[] = [
  {
    name: "a lone alert waits the settle time, then goes out as itself",
    steps: [
      { at: 0, push: [reconnect("BTCUSDT", 1200)] },
      { at: 1999, due: [] },
      { at: 2000, due: ["🔗 Reconnected spot BTCUSDT after 1.2s down"] },
      { at: 2001, due: [] },
    ],
  },
  {
    name: "a burst of 12 reconnects becomes one summary with counts per connection",
    steps: [
      {
        at: 0,
        push: Array.from({ length: 12 }, (_, i) => reconnect(i % 2 ? "ETHUSDT" : "BTCUSDT", 500 + 100 * i)),
      },
      {
        at: 2000,
        due: ["🔗 12 reconnects on spot in the last 2 s (BTCUSDT ×6, ETHUSDT ×6), longest down 1.6s"],
      },
    ],
  },
  {
    name: "a storm that goes on costs one message per window",
    steps: [
      { at: 0, push: [reconnect("BTCUSDT"), reconnect("ETHUSDT")] },
      { at: 2000, due: [/^🔗 2 reconnects on spot in the last 2 s/] },
      { at: 2500, push: [reconnect("BTCUSDT"), reconnect("BTCUSDT"), reconnect("SOLUSDT", 4000)] },
      { at: 40_000, push: [reconnect("BTCUSDT")] },
      { at: 61_999, due: [] },
      {
        at: 62_000,
        due: ["🔗 4 reconnects on spot in the last 60 s (BTCUSDT ×3, SOLUSDT), longest down 4s"],
      },
      { at: 70_000, push: [reconnect("ETHUSDT")] },
      // Still inside the window that began at 62 s: waits for its end, and a lone alert reads as itself.
      { at: 121_999, due: [] },
      { at: 122_000, due: ["🔗 Reconnected spot ETHUSDT after 1s down"] },
    ],
  },
  {
    name: "after a quiet window, the next alert only waits the settle time",
    steps: [
      { at: 0, push: [reconnect("BTCUSDT")] },
      { at: 2000, due: [/Reconnected spot BTCUSDT/] },
      { at: 62_000, due: [] },
      { at: 70_000, push: [reconnect("ETHUSDT")] },
      { at: 72_000, due: [/Reconnected spot ETHUSDT/] },
    ],
  },
  {
    name: "disconnects and reconnects of a market share one summary; markets do not",
    steps: [
      {
        at: 0,
        push: [
          { kind: "disconnect", market: "spot", conn: "BTCUSDT", cause: "ping timeout" },
          { kind: "disconnect", market: "spot", conn: "ETHUSDT", cause: "ping timeout" },
          reconnect("BTCUSDT", 700),
          reconnect("ETHUSDT", 900),
          reconnect("BTCUSDT", 300, "usdm"),
        ],
      },
      {
        at: 2000,
        due: [
          "🔗 2 reconnects, 2 disconnects on spot in the last 2 s (BTCUSDT ×2, ETHUSDT ×2), longest down 0.9s",
          "🔗 Reconnected usdm BTCUSDT after 0.3s down",
        ],
      },
    ],
  },
  {
    name: "gaps are counted per symbol and kind, with the missing time",
    steps: [
      {
        at: 0,
        push: [gap("BTCUSDT", "sequence", 1.5), gap("BTCUSDT", "sequence", 2), gap("ETHUSDT", "stale", 60)],
      },
      {
        at: 2000,
        due: ["🕳 3 gaps on usdm in the last 2 s (BTCUSDT ×2, ETHUSDT): sequence ×2, stale, 1m 3s missing"],
      },
    ],
  },
  {
    name: "start, stop and the daily report are never held back",
    steps: [
      { at: 0, push: [{ kind: "stop", version: "1.0.0", reason: "SIGTERM", uptimeMs: 90_000_000 }] },
      { at: 0, due: ["🔴 <b>Collector stopped</b> v1.0.0: SIGTERM, up 1d 1h"] },
    ],
  },
  {
    name: "disk low repeats at most hourly, but crossing the minimum is told at once",
    steps: [
      {
        at: 0,
        push: [{
          kind: "disk",
          dir: "data",
          freeBytes: 4 * 2 ** 30,
          lowBytes: 5 * 2 ** 30,
          minBytes: 2 ** 29,
        }],
      },
      { at: 2000, due: ["💾 Disk low: 4.00 GiB free for data (alert below 5.00 GiB)"] },
      {
        at: 60_000,
        push: [
          { kind: "disk", dir: "data", freeBytes: 3 * 2 ** 30, lowBytes: 5 * 2 ** 30, minBytes: 2 ** 29 },
          { kind: "disk", dir: "data", freeBytes: 2 ** 28, lowBytes: 5 * 2 ** 30, minBytes: 2 ** 29 },
        ],
      },
      {
        at: 62_000,
        due: ["🛑 <b>Disk full</b>: 256 MiB free for data, below the 512 MiB minimum for writing"],
      },
      {
        at: 120_000,
        push: [{ kind: "disk", dir: "data", freeBytes: 2 ** 31, lowBytes: 5 * 2 ** 30, minBytes: 2 ** 29 }],
      },
      { at: 3_601_999, due: [] },
      {
        at: 3_602_000,
        due: ["💾 Disk low 2 times in the last 60 min, least free 2.00 GiB for data (alert below 5.00 GiB)"],
      },
    ],
  },
  {
    name: "clock offsets from one source summarise the worst offset by magnitude",
    settleMs: 0,
    steps: [
      { at: 0, push: [{ kind: "clock", source: "ntp", offsetMs: 150, thresholdMs: 100 }] },
      { at: 0, due: ["⏱ Clock offset +150.0 ms (ntp), limit ±100 ms"] },
      {
        at: 600_000,
        push: [
          { kind: "clock", source: "ntp", server: "pool.ntp.org", offsetMs: 120, thresholdMs: 100 },
          { kind: "clock", source: "ntp", offsetMs: -310.25, thresholdMs: 100 },
        ],
      },
      { at: 3_600_000, due: ["⏱ 2 clock offsets over ±100 ms from ntp in the last 60 min, worst -310.3 ms"] },
    ],
  },
  {
    name: "flush, upload and journal failures quote the last error",
    steps: [
      {
        at: 0,
        push: [
          { kind: "flush_failed", error: "ENOSPC" },
          { kind: "flush_failed", error: "EIO <disk>" },
          { kind: "sync_failed", path: "spot/trades/a.parquet", error: "timeout" },
          { kind: "sync_failed", path: "spot/trades/b.parquet", error: "403" },
          { kind: "journal_failed", error: "No space left on device" },
          { kind: "journal_failed", error: "EIO" },
        ],
      },
      {
        at: 2000,
        due: [
          "❌ 2 flush failures in the last 2 s; last: EIO &lt;disk&gt;",
          "☁️ 2 upload failures in the last 2 s (spot/trades/a.parquet, spot/trades/b.parquet); last: " +
          "spot/trades/b.parquet: 403",
          "❌ 2 journal failures in the last 2 s; last: EIO",
        ],
      },
    ],
  },
  {
    name: "more than four subjects are cut to the four busiest",
    steps: [
      {
        at: 0,
        push: ["A", "B", "B", "C", "C", "C", "D", "E", "F"].map((s) => ({
          kind: "backfill" as const,
          market: "spot" as const,
          symbol: s,
          stream: "aggTrade",
          ok: s !== "F",
          rows: 10,
          detail: "",
        })),
      },
      {
        at: 2000,
        due: ["♻️ 9 backfills on spot in the last 2 s: 8 ok, 1 failed (C ×3, B ×2, A, D, +2 more)"],
      },
    ],
  },
];

for (const c of CASES) {
  Deno.test(`AlertCoalescer: ${c.name}`, () => {
    const co = new AlertCoalescer({ settleMs: c.settleMs ?? 2000 });
    for (const step of c.steps) {
      if ("push" in step) {
        for (const a of step.push) co.push(a, step.at);
        continue;
      }
      const got = co.due(step.at);
      assert.equal(got.length, step.due.length, `at ${step.at}: ${JSON.stringify(got)}`);
      step.due.forEach((want, i) => {
        if (typeof want === "string") assert.equal(got[i], want);
        else assert.match(got[i]!, want);
      });
    }
  });
}

Deno.test("AlertCoalescer.nextDueMs() and pending follow the groups", () => {
  const co = new AlertCoalescer({ settleMs: 500, windowsMs: { link: 10_000 } });
  assert.equal(co.nextDueMs(), null);
  co.push(reconnect("BTCUSDT"), 100);
  co.push(reconnect("ETHUSDT"), 200);
  co.push(gap("BTCUSDT", "sequence", 1), 300);
  assert.equal(co.nextDueMs(), 600);
  assert.equal(co.pending, 3);
  assert.equal(co.due(600).length, 1);
  assert.equal(co.nextDueMs(), 800);
  co.due(800);
  assert.equal(co.pending, 0);
  co.push(reconnect("BTCUSDT"), 900);
  // In the window opened at 600: due at its end.
  assert.equal(co.nextDueMs(), 10_600);
  co.push({ kind: "stop", version: "1", reason: "test", uptimeMs: 1 }, 1000);
  assert.equal(co.nextDueMs(), -Infinity);
});

Deno.test("AlertCoalescer.drain() hands out every group at once", () => {
  const co = new AlertCoalescer();
  co.push(reconnect("BTCUSDT"), 0);
  co.push(gap("BTCUSDT", "stale", 5), 10);
  co.push(gap("ETHUSDT", "stale", 5), 20);
  const out = co.drain(30);
  assert.equal(out.length, 2);
  assert.match(out[0]!, /^🔗 Reconnected spot BTCUSDT/);
  assert.match(out[1]!, /^🕳 2 gaps on usdm in the last 1 s/);
  assert.equal(co.pending, 0);
  assert.equal(co.nextDueMs(), null);
});

Deno.test("AlertCoalescer keeps at most MAX_SUBJECTS subjects and counts the rest", () => {
  const co = new AlertCoalescer();
  for (let i = 0; i < MAX_SUBJECTS + 50; i++) co.push(reconnect(`S${String(i).padStart(3, "0")}`), 0);
  co.push(reconnect("S000"), 1);
  const [text] = co.due(2000);
  assert.equal(
    text,
    `🔗 ${MAX_SUBJECTS + 51} reconnects on spot in the last 2 s (S000 ×2, S001, S002, S003, ` +
      `+${MAX_SUBJECTS - 4}… more), longest down 1s`,
  );
});

Deno.test("groupOf() keys alerts by family and market or source", () => {
  assert.deepEqual(groupOf(reconnect("X", 1, "usdm")), { family: "link", key: "link:usdm" });
  assert.deepEqual(groupOf(gap("X", "stale", 1)), { family: "gap", key: "gap:usdm" });
  assert.deepEqual(groupOf({ kind: "clock", source: "binance-spot", offsetMs: 1, thresholdMs: 1 }), {
    family: "clock",
    key: "clock:binance-spot",
  });
  assert.equal(groupOf({ kind: "start", version: "1", dataDir: "d", markets: [] }), null);
  assert.equal(groupOf({ kind: "stop", version: "1", reason: "test", uptimeMs: 1 }), null);
});
