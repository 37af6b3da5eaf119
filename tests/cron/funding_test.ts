import assert from "node:assert/strict";
import {
  FileFundingHistory,
  type FundingDeps,
  FundingRunError,
  isPerpetual,
  registerFunding,
  runFunding,
  runFundingMarkets,
  symbolsWithoutMarkPrice,
} from "../../cron/funding.ts";
import { RestClient } from "../../lib/binance/rest.ts";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import type { Market } from "../../lib/binance/types.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import type { RowSink } from "../../lib/pipeline/normalizer_contract.ts";
import { RecordKind } from "../../lib/pipeline/records.ts";
import { TableStore } from "../../lib/pipeline/table_store.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { readTableRows } from "../../lib/storage/read_rows.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";
import { fakeCron, onlyRegistration } from "./_fake_cron.ts";

const EIGHT_H = 8 * 3_600_000;
const FIRST_FUNDING = Date.UTC(2025, 0, 1);
const T0 = Date.UTC(2026, 2, 10, 0, 5);

/** Funding settled at `t` for `symbol`, as Binance's decimal strings. */
function funding(symbol: string, t: number) {
  const k = (t - FIRST_FUNDING) / EIGHT_H + symbol.length;
  return { rate: ((k % 7) - 3) * 1e-5, mark: 60_000 + (k % 1000) / 100 };
}

/**
 * A fake of USD-M `fundingRate` (Binance semantics: from `startTime`, ascending, at most `limit` up to 1000)
 * and `premiumIndex` (one object per symbol, an array without one). `BADUSDT` is rejected like an unknown
 * symbol. `now` is the exchange's clock, moved by the tests.
 */
function startFakeFapi() {
  const requests: URL[] = [];
  const state = { now: T0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    requests.push(url);
    const symbol = url.searchParams.get("symbol");
    if (symbol === "BADUSDT") return Response.json({ code: -1121, msg: "Invalid symbol." }, { status: 400 });
    if (url.pathname === "/fapi/v1/fundingRate") {
      const start = Number(url.searchParams.get("startTime") ?? 0);
      const limit = Math.min(Number(url.searchParams.get("limit") ?? 100), 1000);
      const out = [];
      for (let t = FIRST_FUNDING; t <= state.now && out.length < limit; t += EIGHT_H) {
        if (t < start) continue;
        const f = funding(symbol!, t);
        out.push({ symbol, fundingTime: t, fundingRate: f.rate.toFixed(8), markPrice: f.mark.toFixed(8) });
      }
      return Response.json(out);
    }
    if (url.pathname === "/fapi/v1/premiumIndex") {
      const index = (s: string, i: number) => ({
        symbol: s,
        markPrice: (100 + i).toFixed(2),
        indexPrice: (99 + i).toFixed(2),
        estimatedSettlePrice: (98 + i).toFixed(2),
        lastFundingRate: "0.00010000",
        interestRate: "0.00010000",
        nextFundingTime: Math.ceil(state.now / EIGHT_H) * EIGHT_H,
        time: state.now - 5,
      });
      if (symbol !== null) return Response.json(index(symbol, 0));
      return Response.json(Array.from({ length: 12 }, (_, i) => index(`S${i}USDT`, i)));
    }
    return new Response("not found", { status: 404 });
  });
  const baseUrl = `http://127.0.0.1:${server.addr.port}`;
  return { requests, state, baseUrl, close: () => server.shutdown() };
}

/**
 * The collector's path for the answers, without the collector: each one becomes a journal record that a USD-M
 * normalizer (recording `symbols`, mark price streamed for `streamedMarks`) turns into rows of `sink`.
 */
function normalizerJournal(
  sink: RowSink,
  symbols: string[],
  clockUs: () => number,
  streamedMarks: string[] = [],
): FundingDeps["journal"] {
  const plan = planStreams({ market: "usdm", wsUrl: "wss://example", symbols, streams: ["aggTrade"] });
  const marks = streamedMarks.length === 0
    ? null
    : planStreams({ market: "usdm", wsUrl: "wss://example", symbols: streamedMarks, streams: ["markPrice"] });
  const merged = marks === null ? plan : { ...plan, streams: [...plan.streams, ...marks.streams] };
  const n = new MarketNormalizer(merged, sink, { needSnapshot: () => {} }, { topLevels: 1 });
  const rec = (kind: RecordKind, symbol: string, text: string) =>
    n.process({ localUs: clockUs(), market: "usdm", conn: 0, kind, symbol, text });
  return {
    fundingRates: (symbol, startTimeMs, text) =>
      rec(RecordKind.FundingRates, symbol, `${startTimeMs}\n${text}`),
    premiumIndex: (text) => rec(RecordKind.PremiumIndex, "", text),
  };
}

/** Every funding settlement in [from, to]. */
function settlements(from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = FIRST_FUNDING; t <= to; t += EIGHT_H) if (t >= from) out.push(t);
  return out;
}

/** The funding rows of `symbol` (read from files of every symbol), times in ms as the REST answers have them. */
async function fundingRows(dataDir: string, manifest: Manifest, symbol: string) {
  const rows = await readTableRows(dataDir, manifest.entries(), "usdm", "funding_rates", { symbol });
  return rows.map((r) => ({ ...r, funding_time: r.funding_time / 1000, local_time: r.local_time / 1000 }));
}

Deno.test("runFunding() records funding from the lookback, continues after the recorded data, and polls marks", async () => {
  const fapi = startFakeFapi();
  const rest = new RestClient({ market: "usdm", baseUrl: fapi.baseUrl });
  const dataDir = await Deno.makeTempDir({ prefix: "funding_test_" });
  try {
    const lookback = 400 * 86_400_000; // ~1200 settlements: two pages
    let manifest = await Manifest.load(dataDir);
    let store = new TableStore(dataDir, { manifest });
    const deps = (m: Manifest, s: TableStore, now: number): FundingDeps => ({
      market: "usdm",
      rest,
      journal: normalizerJournal(s, ["BTCUSDT", "ETHUSDT"], () => now * 1000, ["BTCUSDT"]),
      history: new FileFundingHistory(m, "usdm"),
      symbols: ["BTCUSDT", "ETHUSDT"],
      markPriceSymbols: ["ETHUSDT"],
      initialLookbackMs: lookback,
    });

    const first = await runFunding(deps(manifest, store, T0), T0);
    const expected = settlements(T0 - lookback, T0);
    assert.ok(expected.length > 1000);
    assert.deepEqual(first, { fundingRows: 2 * expected.length, markPriceRows: 1, failures: [] });
    const btcCalls = fapi.requests.filter((u) =>
      u.pathname.endsWith("fundingRate") && u.searchParams.get("symbol") === "BTCUSDT"
    );
    assert.deepEqual(btcCalls.map((u) => Number(u.searchParams.get("startTime"))), [
      T0 - lookback,
      expected[999]! + 1,
    ]);
    await store.flush();

    const btc = await fundingRows(dataDir, manifest, "BTCUSDT");
    assert.equal(btc.length, expected.length);
    btc.forEach((r, i) => {
      const f = funding("BTCUSDT", expected[i]!);
      assert.equal(r.funding_time, expected[i]!, "funding_time (read back in ms)");
      assert.equal(r.funding_rate, Number(f.rate.toFixed(8)));
      assert.equal(r.mark_price, Number(f.mark.toFixed(8)));
      assert.equal(r.local_time, T0);
    });
    const marks = await readTableRows(dataDir, manifest.entries(), "usdm", "mark_prices");
    assert.deepEqual(marks.map((m) => m.symbol), ["ETHUSDT"]);
    const mark = marks[0]!;
    assert.deepEqual(
      [mark.mark_price, mark.index_price, mark.estimated_settle_price, mark.funding_rate, mark.exchange_time],
      [100, 99, 98, 0.0001, (T0 - 5) * 1000],
    );

    // A restart 8 hours later: the history comes from the files, and only the new settlement is fetched.
    const t1 = T0 + EIGHT_H;
    fapi.state.now = t1;
    fapi.requests.length = 0;
    manifest = await Manifest.load(dataDir);
    store = new TableStore(dataDir, { manifest });
    const later = deps(manifest, store, t1);
    assert.deepEqual(await runFunding(later, t1), { fundingRows: 2, markPriceRows: 1, failures: [] });
    const last = expected[expected.length - 1]!;
    assert.deepEqual(
      fapi.requests.filter((u) => u.pathname.endsWith("fundingRate")).map((u) =>
        Number(u.searchParams.get("startTime"))
      ),
      [last + 1, last + 1],
    );
    // Run again before anything settled (and before a flush): nothing new, nothing twice.
    fapi.requests.length = 0;
    assert.deepEqual(await runFunding(later, t1 + 60_000), {
      fundingRows: 0,
      markPriceRows: 1,
      failures: [],
    });
    assert.deepEqual(
      fapi.requests.filter((u) => u.pathname.endsWith("fundingRate")).map((u) =>
        Number(u.searchParams.get("startTime"))
      ),
      [last + EIGHT_H + 1, last + EIGHT_H + 1],
    );
    await store.flush();
    const all = await fundingRows(dataDir, manifest, "ETHUSDT");
    assert.deepEqual(all.map((r) => r.funding_time), [...expected, last + EIGHT_H]);
  } finally {
    rest.close();
    await fapi.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** A row sink that keeps what it receives. */
function recordingSink() {
  const rows: { market: Market; table: TableName; symbol: string; row: Record<string, unknown> }[] = [];
  const sink: RowSink = {
    row<N extends TableName>(market: Market, table: N, symbol: string, _us: number, row: Row<N>) {
      rows.push({ market, table, symbol, row: row as Record<string, unknown> });
    },
  };
  return { rows, sink };
}

/** A history with fixed answers that records what it was told. */
function memoryHistory(last: Record<string, number>) {
  const noted: [string, number][] = [];
  return {
    noted,
    history: {
      lastFundingTime: (s: string) => Promise.resolve(last[s] ?? null),
      noteWritten: (s: string, t: number) => void noted.push([s, t]),
    },
  };
}

Deno.test("runFunding() reports a failing symbol after writing the others", async () => {
  const fapi = startFakeFapi();
  const rest = new RestClient({ market: "usdm", baseUrl: fapi.baseUrl, maxAttempts: 1 });
  try {
    const { rows, sink } = recordingSink();
    const { noted, history } = memoryHistory({ BTCUSDT: T0 - 2 * EIGHT_H });
    const err = await runFunding({
      market: "usdm",
      rest,
      journal: normalizerJournal(sink, ["BADUSDT", "BTCUSDT"], () => 1),
      history,
      symbols: ["BADUSDT", "BTCUSDT"],
      markPriceSymbols: [],
    }, T0).then(() => null, (e) => e);
    assert.ok(err instanceof FundingRunError);
    assert.deepEqual(err.result.failures.map((f) => f.symbol), ["BADUSDT"]);
    assert.equal(err.result.fundingRows, 2);
    const times = settlements(T0 - 2 * EIGHT_H + 1, T0);
    assert.deepEqual(
      rows.map((r) => [r.table, r.symbol, r.row.funding_time]),
      times.map((t) => ["funding_rates", "BTCUSDT", t * 1000]),
    );
    assert.deepEqual(noted, times.map((t) => ["BTCUSDT", t]));
  } finally {
    rest.close();
    await fapi.close();
  }
});

Deno.test("runFunding() polls premiumIndex once for all symbols when ten or more are wanted", async () => {
  const fapi = startFakeFapi();
  const rest = new RestClient({ market: "usdm", baseUrl: fapi.baseUrl });
  try {
    const { rows, sink } = recordingSink();
    const wanted = Array.from({ length: 10 }, (_, i) => `S${i + 1}USDT`);
    const result = await runFunding({
      market: "usdm",
      rest,
      journal: normalizerJournal(sink, wanted, () => 42),
      history: memoryHistory({}).history,
      symbols: [],
      markPriceSymbols: wanted,
    }, T0);
    assert.deepEqual(result, { fundingRows: 0, markPriceRows: 10, failures: [] });
    assert.deepEqual(fapi.requests.map((u) => [u.pathname, u.search]), [["/fapi/v1/premiumIndex", ""]]);
    assert.deepEqual(rows.map((r) => r.symbol), wanted, "S0USDT and S11USDT are not wanted");
    assert.deepEqual(rows[0]!.row, {
      symbol: "S1USDT",
      exchange_time: (T0 - 5) * 1000,
      local_time: 42,
      mark_price: 101,
      index_price: 100,
      estimated_settle_price: 99,
      funding_rate: 0.0001,
      next_funding_time: Math.ceil(T0 / EIGHT_H) * EIGHT_H * 1000,
    });
  } finally {
    rest.close();
    await fapi.close();
  }
});

Deno.test("symbolsWithoutMarkPrice() lists the symbols only when no markPrice stream is recorded", () => {
  const symbols = ["BTCUSDT", "ETHUSDT"];
  assert.deepEqual(symbolsWithoutMarkPrice({ symbols, streams: ["aggTrade", "depth@100ms"] }), symbols);
  assert.deepEqual(symbolsWithoutMarkPrice({ symbols, streams: ["aggTrade", "markPrice@1s"] }), []);
  assert.deepEqual(symbolsWithoutMarkPrice({ symbols, streams: ["markPrice"] }), []);
});

Deno.test("registerFunding() registers at the funding times with a backoff schedule", () => {
  const { cron, registered } = fakeCron();
  const rest = {
    fundingRate: () => Promise.resolve({ text: "[]", value: [] }),
    premiumIndex: () => Promise.resolve({ text: "[]", value: [] }),
  };
  const journal = { fundingRates: () => {}, premiumIndex: () => {} };
  registerFunding(
    [{
      market: "usdm",
      rest,
      journal,
      history: memoryHistory({}).history,
      symbols: [],
      markPriceSymbols: [],
    }],
    cron,
  );
  assert.equal(onlyRegistration(registered, "funding").schedule, "5 0,8,16 * * *");
});

Deno.test("runFundingMarkets(): a failing market does not stop the next; COIN-M polls premiumIndex once (10 either way)", async () => {
  const calls: string[] = [];
  const failing = {
    fundingRate: () => Promise.reject(new Error("HTTP 503")),
    premiumIndex: () => Promise.resolve({ text: "[]", value: [] }),
  };
  const coinm = {
    fundingRate: (q: { symbol: string }) => {
      calls.push(`fundingRate ${q.symbol}`);
      return Promise.resolve({
        text: "[]",
        value: [{ symbol: q.symbol, fundingTime: T0 - 1000, fundingRate: 0.0001, markPrice: null }],
      });
    },
    premiumIndex: (symbol?: string) => {
      calls.push(`premiumIndex ${symbol ?? "all"}`);
      return Promise.resolve({ text: "[]", value: [] });
    },
  };
  const journal = { fundingRates: () => {}, premiumIndex: () => {} };
  const err = await runFundingMarkets([
    {
      market: "usdm",
      rest: failing,
      journal,
      history: memoryHistory({}).history,
      symbols: ["BTCUSDT"],
      markPriceSymbols: [],
    },
    {
      market: "coinm",
      rest: coinm,
      journal,
      history: memoryHistory({}).history,
      symbols: ["BTCUSD_PERP", "ETHUSD_PERP"],
      markPriceSymbols: ["BTCUSD_PERP", "BTCUSD_261225"],
    },
  ], T0).then(() => null, (e) => e);
  assert.ok(err instanceof FundingRunError);
  assert.deepEqual(err.result.failures.map((f) => f.symbol), ["usdm:BTCUSDT"]);
  assert.equal(err.result.fundingRows, 2);
  assert.deepEqual(calls, ["fundingRate BTCUSD_PERP", "fundingRate ETHUSD_PERP", "premiumIndex all"]);
});

Deno.test("isPerpetual() tells perpetuals from delivery contracts by the delivery date in the name", () => {
  assert.deepEqual(
    ["BTCUSDT", "BTCUSD_PERP", "BTCUSDT_261225", "BTCUSD_270326", "1000PEPEUSDT"].map(isPerpetual),
    [true, true, false, false, true],
  );
});

Deno.test("FileFundingHistory finds a symbol in a funding file written after an earlier question", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "funding_history_" });
  try {
    const manifest = await Manifest.load(dataDir);
    const store = new TableStore(dataDir, { manifest });
    const history = new FileFundingHistory(manifest, "usdm");
    const write = async (symbol: string, fundingMs: number) => {
      const row: Row<"funding_rates"> = {
        symbol,
        funding_time: fundingMs * 1000,
        funding_rate: 1e-4,
        mark_price: 100,
        local_time: T0 * 1000,
      };
      store.row("usdm", "funding_rates", symbol, row.local_time, row);
      await store.flush();
    };
    await write("BTCUSDT", FIRST_FUNDING);
    assert.equal(await history.lastFundingTime("BTCUSDT"), FIRST_FUNDING);
    assert.equal(await history.lastFundingTime("ETHUSDT"), null);
    // A file written since: the list of files the first questions used is not the one to search now.
    await write("SOLUSDT", FIRST_FUNDING + EIGHT_H);
    assert.equal(await history.lastFundingTime("SOLUSDT"), FIRST_FUNDING + EIGHT_H);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
