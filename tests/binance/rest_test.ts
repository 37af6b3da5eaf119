import assert from "node:assert/strict";
import { parseDepthSnapshot, RestClient } from "../../lib/binance/rest.ts";
import type { RestClientOptions } from "../../lib/binance/rest_scheduler.ts";
import {
  BinanceApiError,
  BinanceBanError,
  BinanceNetworkError,
  BinanceRetryError,
} from "../../lib/binance/rest_errors.ts";

/** One scripted answer of the fake Binance. */
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Real milliseconds to wait before answering (for timeouts and in-flight ordering). */
  delayMs?: number;
}

/** A request as the fake saw it, with the fake clock's time. */
interface Seen {
  url: string;
  at: number;
}

/** A fake clock: sleep() advances it instantly and records the wait. */
class FakeTime {
  sleeps: number[] = [];
  constructor(public t: number) {}
  now = () => this.t;
  sleep = (ms: number, signal: AbortSignal): Promise<void> => {
    if (signal.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    this.t += ms;
    return Promise.resolve();
  };
}

/** 10 s into a UTC minute, so window arithmetic is visible in the numbers. */
const T0 = Date.UTC(2026, 0, 1, 0, 0, 10);

const EXCHANGE_INFO = (limit: number) =>
  JSON.stringify({
    timezone: "UTC",
    rateLimits: [
      { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit },
      { rateLimitType: "RAW_REQUESTS", interval: "MINUTE", intervalNum: 5, limit: 61000 },
    ],
    symbols: [{ symbol: "BTCUSDT", status: "TRADING" }],
  });

const SPOT_BODY = await Deno.readTextFile(
  new URL("../fixtures/binance/rest/spot_depth_RUNEEUR_1000.json", import.meta.url),
);
const USDM_BODY = await Deno.readTextFile(
  new URL("../fixtures/binance/rest/usdm_depth_KEEPUSDT_1000.json", import.meta.url),
);
const SMALL_DEPTH = '{"lastUpdateId":5,"bids":[["1.0","2.0"]],"asks":[["1.1","3.0"]]}';

/**
 * Runs `fn` against a local fake Binance whose answers come from `reply` (called with each request and its
 * index). Records every request and the highest number of requests in flight at once.
 */
async function withFake(
  reply: (url: URL, i: number) => Reply,
  fn: (baseUrl: string, seen: Seen[], stats: { maxInFlight: number }, time: FakeTime) => Promise<void>,
  time = new FakeTime(T0),
): Promise<void> {
  const seen: Seen[] = [];
  const stats = { maxInFlight: 0 };
  let inFlight = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const i = seen.length;
    seen.push({ url: url.pathname + url.search, at: time.now() });
    stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
    try {
      const r = reply(url, i);
      if (r.delayMs) await new Promise((res) => setTimeout(res, r.delayMs));
      return new Response(r.body ?? "{}", { status: r.status ?? 200, headers: r.headers });
    } finally {
      inFlight--;
    }
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen, stats, time);
  } finally {
    await server.shutdown();
  }
}

function client(baseUrl: string, time: FakeTime, extra: Partial<RestClientOptions> = {}): RestClient {
  return new RestClient({
    market: "spot",
    baseUrl,
    now: time.now,
    sleep: time.sleep,
    random: () => 0.5,
    ...extra,
  });
}

Deno.test("exchangeInfo() adopts REQUEST_WEIGHT per minute, else keeps the documented limit", async () => {
  await withFake(
    (_u, i) => ({ body: i === 0 ? EXCHANGE_INFO(1200) : '{"rateLimits":[],"symbols":[]}' }),
    async (base, seen, _s, time) => {
      const spot = client(base, time);
      assert.equal(spot.limit, 6000);
      const info = await spot.exchangeInfo();
      assert.equal(spot.limit, 1200);
      assert.deepEqual(info.value.symbols, [{
        symbol: "BTCUSDT",
        status: "TRADING",
        baseAsset: "",
        quoteAsset: "",
        marginAsset: null,
        pair: null,
        contractType: null,
        contractSize: null,
        deliveryDate: null,
        onboardDate: null,
      }]);
      assert.equal(info.text, EXCHANGE_INFO(1200));
      const usdm = client(base, time, { market: "usdm" });
      await usdm.exchangeInfo();
      assert.equal(usdm.limit, 2400);
      assert.deepEqual(seen.map((s) => s.url), ["/api/v3/exchangeInfo", "/fapi/v1/exchangeInfo"]);
    },
  );
});

Deno.test("RestClient paces requests so the used weight stays under the limit", async () => {
  // The fake counts weight per minute of the fake clock like Binance does: exchangeInfo 20, depth@500 25.
  const time = new FakeTime(T0);
  const usedPerMinute = new Map<number, number>();
  await withFake(
    (url) => {
      const minute = Math.floor(time.now() / 60_000);
      const used = (usedPerMinute.get(minute) ?? 0) + (url.pathname.endsWith("exchangeInfo") ? 20 : 25);
      usedPerMinute.set(minute, used);
      const body = url.pathname.endsWith("exchangeInfo") ? EXCHANGE_INFO(100) : SMALL_DEPTH;
      return { body, headers: { "X-MBX-USED-WEIGHT-1M": String(used) } };
    },
    async (base, seen, stats) => {
      const rest = client(base, time);
      await rest.exchangeInfo();
      assert.equal(rest.limit, 100);
      const results = await Promise.all(Array.from({ length: 10 }, () => rest.depth("BTCUSDT", 500)));
      assert.equal(results.length, 10);
      assert.equal(seen.length, 11);
      assert.equal(stats.maxInFlight, 1, "requests are serialized");
      // Budget = 90% of 100: 20 + 25 + 25 in the first minute, then three 25s per minute.
      for (const [minute, used] of usedPerMinute) assert.ok(used <= 90, `minute ${minute} used ${used}`);
      assert.deepEqual([...usedPerMinute.values()], [70, 75, 75, 50]);
      // Each wait ends 1 s after a minute boundary.
      assert.deepEqual(time.sleeps, [51_000, 60_000, 60_000]);
      assert.equal(rest.stats.pacingWaits, 3);
      assert.equal(rest.usedWeight, 50);
      time.t += 60_000;
      assert.equal(rest.usedWeight, 0, "a new minute starts at zero");
    },
    time,
  );
});

Deno.test("RestClient waits for a heavy header-reported weight from other users of the IP", async () => {
  await withFake(
    (_u, i) => ({ body: SMALL_DEPTH, headers: { "x-mbx-used-weight-1m": i === 0 ? "5980" : "300" } }),
    async (base, seen, _s, time) => {
      const rest = client(base, time);
      await rest.depth("BTCUSDT", 1000);
      assert.equal(rest.usedWeight, 5980);
      await rest.depth("BTCUSDT", 1000);
      assert.deepEqual(time.sleeps, [51_000]);
      assert.equal(seen[1]!.at, T0 + 51_000);
    },
  );
});

Deno.test("RestClient honours 429 Retry-After before any further request", async () => {
  await withFake(
    (_u, i) => i === 0 ? { status: 429, headers: { "Retry-After": "7" }, body: "" } : { body: SMALL_DEPTH },
    async (base, seen, _s, time) => {
      const rest = client(base, time);
      const [a, b] = await Promise.all([rest.depth("BTCUSDT", 100), rest.depth("ETHUSDT", 100)]);
      assert.equal(a.snapshot.symbol, "BTCUSDT");
      assert.equal(b.snapshot.symbol, "ETHUSDT");
      assert.equal(seen.length, 3);
      assert.deepEqual(seen.map((s) => s.at), [T0, T0 + 7000, T0 + 7000]);
      assert.deepEqual(seen.map((s) => s.url), [
        "/api/v3/depth?symbol=BTCUSDT&limit=100",
        "/api/v3/depth?symbol=BTCUSDT&limit=100",
        "/api/v3/depth?symbol=ETHUSDT&limit=100",
      ]);
      assert.equal(rest.stats.throttled, 1);
      assert.equal(rest.stats.retries, 0);
    },
  );
});

Deno.test("RestClient stops all requests during a 418 ban and fails only callers who cannot wait", async () => {
  await withFake(
    (_u, i) => i === 0 ? { status: 418, headers: { "Retry-After": "120" }, body: "" } : { body: SMALL_DEPTH },
    async (base, seen, _s, time) => {
      const rest = client(base, time);
      const first = rest.depth("BTCUSDT", 100);
      const patient = rest.depth("ETHUSDT", 100, { maxWaitMs: 600_000 });
      const hasty = rest.depth("SOLUSDT", 100, { maxWaitMs: 60_000 });
      await assert.rejects(hasty, (e: unknown) => {
        assert.ok(e instanceof BinanceBanError);
        assert.equal(e.status, 418);
        assert.equal(e.until, T0 + 120_000);
        return true;
      });
      await Promise.all([first, patient]);
      // Nothing was sent into the ban.
      assert.deepEqual(seen.map((s) => s.at), [T0, T0 + 120_000, T0 + 120_000]);
      assert.equal(rest.stats.banned, 1);
      assert.equal(rest.stats.failed, 1);
      assert.equal(rest.blockedUntil, null);
    },
  );
});

Deno.test("a call made during a long ban fails at once without touching the server", async () => {
  await withFake(
    (_u, i) => i === 0 ? { status: 418, headers: { "Retry-After": "86400" } } : { body: SMALL_DEPTH },
    async (base, seen, _s, time) => {
      const rest = client(base, time);
      await assert.rejects(rest.depth("BTCUSDT", 100), BinanceBanError);
      assert.equal(rest.blockedUntil, T0 + 86_400_000);
      await assert.rejects(rest.serverTime(), BinanceBanError);
      assert.equal(seen.length, 1);
    },
  );
});

Deno.test("RestClient retries 5xx with exponential backoff and then succeeds", async () => {
  await withFake(
    (_u, i) => i < 2 ? { status: 503 - i, body: "Service Unavailable" } : { body: SMALL_DEPTH },
    async (base, seen, _s, time) => {
      const rest = client(base, time);
      const { snapshot } = await rest.depth("BTCUSDT", 100);
      assert.equal(snapshot.lastUpdateId, 5);
      assert.equal(seen.length, 3);
      // random() = 0.5: 500/2 + 0.5 * 500/2, then 1000/2 + 0.5 * 1000/2.
      assert.deepEqual(time.sleeps, [375, 750]);
      assert.equal(rest.stats.retries, 2);
      assert.equal(rest.stats.requests, 3);
    },
  );
});

Deno.test("RestClient gives up after maxAttempts with a typed error carrying the last failure", async () => {
  await withFake(
    () => ({ status: 500, body: '{"code":-1000,"msg":"An unknown error occurred."}' }),
    async (base, seen, _s, time) => {
      const rest = client(base, time, { maxAttempts: 3 });
      await assert.rejects(rest.depth("BTCUSDT", 100), (e: unknown) => {
        assert.ok(e instanceof BinanceRetryError);
        assert.equal(e.attempts, 3);
        assert.ok(e.cause instanceof BinanceApiError);
        assert.equal(e.cause.status, 500);
        assert.equal(e.cause.code, -1000);
        return true;
      });
      assert.equal(seen.length, 3);
      assert.equal(rest.stats.failed, 1);
    },
  );
});

Deno.test("RestClient does not retry other 4xx answers and parses Binance's error body", async () => {
  await withFake(
    () => ({ status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' }),
    async (base, seen, _s, time) => {
      const rest = client(base, time);
      await assert.rejects(rest.depth("NOPE", 100), (e: unknown) => {
        assert.ok(e instanceof BinanceApiError);
        assert.deepEqual([e.status, e.code, e.msg, e.path], [400, -1121, "Invalid symbol.", "/api/v3/depth"]);
        return true;
      });
      assert.equal(seen.length, 1);
    },
  );
});

Deno.test("RestClient retries a timed-out request", async () => {
  await withFake(
    (_u, i) => i === 0 ? { delayMs: 400, body: SMALL_DEPTH } : { body: SMALL_DEPTH },
    async (base, seen, _s, time) => {
      const rest = client(base, time, { timeoutMs: 100 });
      const { snapshot } = await rest.depth("BTCUSDT", 100);
      assert.equal(snapshot.lastUpdateId, 5);
      assert.equal(seen.length, 2);
      assert.equal(rest.stats.retries, 1);
    },
  );
});

Deno.test("RestClient reports timeouts and refused connections as network errors after retries", async () => {
  await withFake(
    () => ({ delayMs: 300 }),
    async (base, seen, _s, time) => {
      const rest = client(base, time, { timeoutMs: 50, maxAttempts: 2 });
      await assert.rejects(rest.serverTime(), (e: unknown) => {
        assert.ok(e instanceof BinanceRetryError);
        assert.ok(e.cause instanceof BinanceNetworkError);
        assert.equal(e.cause.timedOut, true);
        return true;
      });
      assert.equal(seen.length, 2);
    },
  );
  const closed = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response());
  const port = closed.addr.port;
  await closed.shutdown();
  const time = new FakeTime(T0);
  const rest = client(`http://127.0.0.1:${port}`, time, { maxAttempts: 2 });
  await assert.rejects(rest.serverTime(), (e: unknown) => {
    assert.ok(e instanceof BinanceRetryError);
    assert.ok(e.cause instanceof BinanceNetworkError);
    assert.equal(e.cause.timedOut, false);
    return true;
  });
});

Deno.test("RestClient sends snapshots before other calls and backfills last", async () => {
  await withFake(
    (url, i) => ({ delayMs: i === 0 ? 50 : 0, body: url.pathname.endsWith("depth") ? SMALL_DEPTH : "[]" }),
    async (base, seen, _s, time) => {
      const rest = client(base, time);
      const busy = rest.aggTrades({ symbol: "BTCUSDT", fromId: 1 });
      await new Promise((r) => setTimeout(r, 10)); // the first call is now in flight
      const calls = [
        rest.klines({ symbol: "BTCUSDT", interval: "1m", limit: 10 }),
        rest.depth("ETHUSDT", 100),
        rest.depth("BTCUSDT", 100),
        rest.aggTrades({ symbol: "ETHUSDT", startTime: 1, endTime: 2 }, { priority: "snapshot" }),
      ];
      assert.equal(rest.queueLength, 4);
      await busy;
      await Promise.all(calls);
      assert.deepEqual(seen.map((s) => s.url), [
        "/api/v3/aggTrades?symbol=BTCUSDT&fromId=1",
        "/api/v3/depth?symbol=ETHUSDT&limit=100",
        "/api/v3/depth?symbol=BTCUSDT&limit=100",
        "/api/v3/aggTrades?symbol=ETHUSDT&startTime=1&endTime=2",
        "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=10",
      ]);
    },
  );
});

Deno.test("depth() returns the raw body and the parsed snapshot of a recorded spot response", async () => {
  await withFake(() => ({ body: SPOT_BODY }), async (base, seen, _s, time) => {
    const rest = client(base, time);
    const { text, snapshot } = await rest.depth("RUNEEUR", 1000);
    assert.equal(text, SPOT_BODY);
    assert.equal(seen[0]!.url, "/api/v3/depth?symbol=RUNEEUR&limit=1000");
    assert.equal(snapshot.symbol, "RUNEEUR");
    assert.equal(snapshot.lastUpdateId, 15602511);
    assert.equal(snapshot.eventTime, null);
    assert.equal(snapshot.transactionTime, null);
    assert.deepEqual(snapshot.bids[0], [6.251, 69.3]);
    assert.deepEqual(snapshot.asks[0], [6.269, 69.3]);
    assert.deepEqual([snapshot.bids.length, snapshot.asks.length], [221, 468]);
  });
});

Deno.test("parseDepthSnapshot() keeps every level of recorded bodies exactly, with E/T on USD-M", () => {
  for (
    const [body, market, symbol] of [[SPOT_BODY, "spot", "RUNEEUR"], [USDM_BODY, "usdm", "KEEPUSDT"]] as const
  ) {
    const raw = JSON.parse(body) as { bids: [string, string][]; asks: [string, string][] };
    const s = parseDepthSnapshot(body, symbol, market);
    for (const side of ["bids", "asks"] as const) {
      assert.equal(s[side].length, raw[side].length);
      s[side].forEach(([p, q], i) => {
        const [rp, rq] = raw[side][i]!;
        // float64 prints back to the same decimal (trailing zeros aside).
        assert.equal(p, Number(rp));
        assert.equal(String(p), rp.replace(/\.?0+$/, ""));
        assert.equal(String(q), rq.includes(".") ? rq.replace(/\.?0+$/, "") : rq);
      });
    }
    for (let i = 1; i < s.bids.length; i++) assert.ok(s.bids[i]![0] < s.bids[i - 1]![0], "bids descend");
    for (let i = 1; i < s.asks.length; i++) assert.ok(s.asks[i]![0] > s.asks[i - 1]![0], "asks ascend");
  }
  const usdm = parseDepthSnapshot(USDM_BODY, "KEEPUSDT", "usdm");
  assert.deepEqual([usdm.lastUpdateId, usdm.eventTime, usdm.transactionTime], [
    600859619434,
    1626992742018,
    1626992742012,
  ]);
  assert.deepEqual(usdm.bids[0], [0.2463, 631]);
});

Deno.test("usdm-only endpoints, depth limits and query strings", async () => {
  await withFake(
    (url) => ({
      body: url.pathname === "/fapi/v1/premiumIndex"
        ? '{"symbol":"BTCUSDT","markPrice":"1.5","indexPrice":"1.4","estimatedSettlePrice":"1.3",' +
          '"lastFundingRate":"0.0001","interestRate":"0.0001","nextFundingTime":1700000000000,"time":1699999999000}'
        : url.pathname === "/fapi/v1/fundingRate"
        ? '[{"symbol":"BTCUSDT","fundingTime":1,"fundingRate":"0.0001","markPrice":""}]'
        : USDM_BODY,
    }),
    async (base, seen, _s, time) => {
      const spot = client(base, time);
      await assert.rejects(spot.fundingRate(), TypeError);
      await assert.rejects(spot.depth("BTCUSDT", 5001), RangeError);
      const usdm = client(base, time, { market: "usdm" });
      await assert.rejects(usdm.depth("BTCUSDT", 200), RangeError);
      const d = await usdm.depth("KEEPUSDT", 1000);
      assert.equal(d.snapshot.eventTime, 1626992742018);
      const p = await usdm.premiumIndex("BTCUSDT");
      assert.equal(p.value[0]!.markPrice, 1.5);
      const f = await usdm.fundingRate({ symbol: "BTCUSDT", startTime: 0, limit: 1000 });
      assert.deepEqual(f.value, [{
        symbol: "BTCUSDT",
        fundingTime: 1,
        fundingRate: 0.0001,
        markPrice: null,
      }]);
      assert.deepEqual(seen.map((s) => s.url), [
        "/fapi/v1/depth?symbol=KEEPUSDT&limit=1000",
        "/fapi/v1/premiumIndex?symbol=BTCUSDT",
        "/fapi/v1/fundingRate?symbol=BTCUSDT&startTime=0&limit=1000",
      ]);
    },
  );
});

Deno.test("fundingRate() is paced by its own 5-minute request budget", async () => {
  await withFake(() => ({ body: "[]" }), async (base, seen, _s, time) => {
    // A 99% margin leaves 5 of the 500 fundingRate requests per 5 minutes.
    const usdm = client(base, time, { market: "usdm", safetyMargin: 0.99 });
    for (let i = 0; i < 7; i++) await usdm.fundingRate({ symbol: "BTCUSDT" });
    assert.deepEqual(time.sleeps, [300_000]);
    assert.deepEqual(seen.map((s) => s.at - T0), [0, 0, 0, 0, 0, 300_000, 300_000]);
  });
});

Deno.test("serverTime() measures the clock offset", async () => {
  await withFake(() => ({ body: `{"serverTime":${T0 + 2500}}` }), async (base, _seen, _s, time) => {
    const rest = client(base, time);
    const { value, text } = await rest.serverTime();
    assert.equal(value, T0 + 2500);
    assert.equal(text, `{"serverTime":${T0 + 2500}}`);
    assert.equal(rest.clockOffsetMs, 2500);
  });
});

Deno.test("close() rejects queued calls with an AbortError and refuses new ones", async () => {
  await withFake(
    () => ({ status: 418, headers: { "Retry-After": "60" } }),
    async (base, seen, _s, time) => {
      // A real sleep, so the ban wait is pending when close() is called.
      const rest = client(base, time, { sleep: undefined });
      const a = rest.depth("BTCUSDT", 100);
      const b = rest.depth("ETHUSDT", 100);
      while (seen.length === 0 || rest.blockedUntil === null) await new Promise((r) => setTimeout(r, 5));
      rest.close();
      for (const p of [a, b, rest.serverTime()]) {
        await assert.rejects(p, (e: unknown) => e instanceof DOMException && e.name === "AbortError");
      }
      assert.equal(seen.length, 1);
    },
  );
});
