import assert from "node:assert/strict";
import { alertText, fmtSpan } from "../../lib/telegram/alert_text.ts";
import type { Alert } from "../../lib/telegram/alerts.ts";

const CASES: [Alert, string][] = [
  [
    {
      kind: "start",
      version: "1.4.0",
      dataDir: "/srv/data",
      markets: [{ market: "spot", symbols: ["BTCUSDT", "ETHUSDT"] }, {
        market: "usdm",
        symbols: ["BTCUSDT"],
      }],
    },
    "🟢 <b>Collector started</b> v1.4.0\nspot: BTCUSDT, ETHUSDT\nusdm: BTCUSDT\ndata: /srv/data",
  ],
  [
    { kind: "stop", version: "1.4.0", reason: "SIGTERM", uptimeMs: 4_340_000 },
    "🔴 <b>Collector stopped</b> v1.4.0: SIGTERM, up 1h 12m",
  ],
  [
    { kind: "disconnect", market: "usdm", conn: "usdm/0", cause: "close code=1006 <abnormal>" },
    "🔌 Disconnected usdm usdm/0: close code=1006 &lt;abnormal&gt;",
  ],
  [
    { kind: "reconnect", market: "spot", conn: "BTCUSDT", downtimeMs: 65_000 },
    "🔗 Reconnected spot BTCUSDT after 1m 5s down",
  ],
  [
    {
      kind: "gap",
      market: "spot",
      gap: {
        symbol: "BTCUSDT",
        stream: "depth@100ms",
        kind: "sequence",
        start_time: 5_000_000,
        end_time: 7_250_000,
        last_update_id: 1000,
        resume_update_id: 1042,
        reason: "U 1002 > u+1 1001",
      },
    },
    "🕳 Gap spot BTCUSDT depth@100ms: sequence, 2.3s ids 1000→1042\nU 1002 &gt; u+1 1001",
  ],
  [
    {
      kind: "gap",
      market: "usdm",
      gap: {
        symbol: "ETHUSDT",
        stream: "markPrice@1s",
        kind: "stale",
        start_time: 0,
        end_time: 12_000_000,
        last_update_id: null,
        resume_update_id: null,
        reason: "no message for 10 s",
      },
    },
    "🕳 Gap usdm ETHUSDT markPrice@1s: stale, 12s\nno message for 10 s",
  ],
  [
    {
      kind: "backfill",
      market: "spot",
      symbol: "BTCUSDT",
      stream: "aggTrade",
      ok: true,
      rows: 12_345,
      detail: "",
    },
    "♻️ Backfilled spot BTCUSDT aggTrade: 12.3k rows",
  ],
  [
    {
      kind: "backfill",
      market: "spot",
      symbol: "BTCUSDT",
      stream: "aggTrade",
      ok: false,
      rows: 0,
      detail: "418 banned",
    },
    "⚠️ Backfill failed spot BTCUSDT aggTrade: 418 banned",
  ],
  [
    { kind: "clock", source: "binance-usdm", server: null, offsetMs: -120.04, thresholdMs: 100 },
    "⏱ Clock offset -120.0 ms (binance-usdm), limit ±100 ms",
  ],
  [{ kind: "flush_failed", error: "x".repeat(400) }, `❌ Flush failed: ${"x".repeat(299)}…`],
  [
    { kind: "journal_failed", error: "Journal write failed in segment 7: No space left on device" },
    "❌ <b>Journal failed</b>: Journal write failed in segment 7: No space left on device; collecting in memory " +
    "while it is reopened",
  ],
  [
    { kind: "sync_failed", path: "spot/trades/date=2024-01-02/a&b.parquet", error: "exit 1" },
    "☁️ Upload failed: spot/trades/date=2024-01-02/a&amp;b.parquet: exit 1",
  ],
];

for (const [alert, want] of CASES) {
  Deno.test(`alertText() words a ${alert.kind} alert`, () => {
    assert.equal(alertText(alert), want);
  });
}

Deno.test("fmtSpan() picks seconds, minutes or hours", () => {
  const table: [number, string][] = [
    [0, "1 s"],
    [1_400, "1 s"],
    [60_000, "60 s"],
    [119_000, "119 s"],
    [120_000, "2 min"],
    [300_000, "5 min"],
    [3_600_000, "60 min"],
    [7_200_000, "2 h"],
    [86_400_000, "24 h"],
  ];
  for (const [ms, want] of table) assert.equal(fmtSpan(ms), want, `${ms} ms`);
});
