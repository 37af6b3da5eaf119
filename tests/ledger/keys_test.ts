import assert from "node:assert/strict";
import {
  clockKey,
  clockRange,
  coverageKey,
  coverageRange,
  flushKey,
  flushRange,
  gapDayKey,
  gapDayPrefix,
  parseCoverageKey,
} from "../../lib/ledger/keys.ts";

async function listed(kv: Deno.Kv, selector: Deno.KvListSelector): Promise<Deno.KvKey[]> {
  const out: Deno.KvKey[] = [];
  for await (const { key } of kv.list(selector)) out.push(key);
  return out;
}

Deno.test("time ranges select [from, to) in numeric order, not text order", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // 9 and 10 sort the other way round as text.
    for (const t of [9, 10, 100, 1_700_000_000_000_000]) {
      await kv.set(flushKey(t), t);
      await kv.set(clockKey(t, "ntp"), t);
      await kv.set(clockKey(t, "binance-spot"), t);
      await kv.set(coverageKey(t, "spot", "BTCUSDT", "aggTrade"), t);
    }
    assert.deepEqual(await listed(kv, flushRange(9, 100)), [flushKey(9), flushKey(10)]);
    assert.deepEqual(await listed(kv, clockRange(10, 101)), [
      clockKey(10, "binance-spot"),
      clockKey(10, "ntp"),
      clockKey(100, "binance-spot"),
      clockKey(100, "ntp"),
    ]);
    assert.deepEqual(await listed(kv, coverageRange(100, 1_800_000_000_000_000)), [
      coverageKey(100, "spot", "BTCUSDT", "aggTrade"),
      coverageKey(1_700_000_000_000_000, "spot", "BTCUSDT", "aggTrade"),
    ]);
  } finally {
    kv.close();
  }
});

Deno.test("parseCoverageKey() inverts coverageKey()", () => {
  assert.deepEqual(parseCoverageKey(coverageKey(3_600_000_000, "usdm", "ETHUSDT", "markPrice@1s")), {
    hourUs: 3_600_000_000,
    market: "usdm",
    symbol: "ETHUSDT",
    stream: "markPrice@1s",
  });
});

Deno.test("gapDayPrefix() narrows left to right and is a prefix of the day keys", () => {
  const key = { market: "spot" as const, symbol: "BTCUSDT", stream: "aggTrade", startUs: 5, kind: "stale" };
  const full = gapDayKey(0, key);
  for (
    const prefix of [gapDayPrefix(0), gapDayPrefix(0, "spot"), gapDayPrefix(0, "spot", "BTCUSDT", "aggTrade")]
  ) {
    assert.deepEqual(full.slice(0, prefix.length), prefix);
  }
  // A stream without its symbol cannot narrow the prefix.
  assert.deepEqual(gapDayPrefix(0, "spot", undefined, "aggTrade"), ["gap_day", 0, "spot"]);
});
