/**
 * Book reconstruction on REAL recorded Binance messages (tests/fixtures/binance, see tests/fixtures/SOURCES.md).
 *
 * Every diff and REST snapshot is fed to a `BookSync` in recorded order. Expected numbers (applied and dropped
 * diffs, bookTicker checks, boundary cases) come from the fixtures' SOURCES.md, where they were established
 * independently with exact decimals. The bookTicker oracle: after each applied diff whose `u` equals a recorded
 * bookTicker's `u`, the book's best bid and ask (price and quantity) must equal that bookTicker.
 */
import assert from "node:assert/strict";
import type { DepthDiff, DepthSnapshot, Level, Market } from "../../lib/binance/types.ts";
import { BookSync, type SequenceGap, type SnapshotRequestReason } from "../../lib/book/sync.ts";
import { type FixtureRecord, readFixtureRecords } from "../fixtures_util.ts";

// ---- minimal test-local parsing of the recorded payloads ----

type RawLevels = [string, string][];

interface Ticker {
  bidPrice: number;
  bidQty: number;
  askPrice: number;
  askQty: number;
}

function levels(raw: RawLevels): Level[] {
  return raw.map(([p, q]) => [Number(p), Number(q)]);
}

// deno-lint-ignore no-explicit-any
function toDiff(d: any): DepthDiff {
  return {
    symbol: d.s,
    eventTime: d.E,
    transactionTime: d.T ?? null,
    firstUpdateId: d.U,
    finalUpdateId: d.u,
    prevFinalUpdateId: d.pu ?? null,
    bids: levels(d.b),
    asks: levels(d.a),
  };
}

function toSnapshot(symbol: string, text: string): DepthSnapshot {
  const d = JSON.parse(text);
  return {
    symbol,
    lastUpdateId: d.lastUpdateId,
    eventTime: d.E ?? null,
    transactionTime: d.T ?? null,
    bids: levels(d.bids),
    asks: levels(d.asks),
  };
}

/** A parsed record that matters to the book, in recorded order. */
type BookEvent =
  | { kind: "diff"; diff: DepthDiff }
  | { kind: "snapshot"; snapshot: DepthSnapshot };

interface Parsed {
  events: BookEvent[];
  /** bookTickers by `"<SYMBOL> <u>"`. */
  tickers: Map<string, Ticker>;
}

/** `snapshotSymbol` names the symbol of a bare hftbacktest snapshot body (it has no URL). */
function parseRecords(records: FixtureRecord[], snapshotSymbol?: string): Parsed {
  const events: BookEvent[] = [];
  const tickers = new Map<string, Ticker>();
  for (const r of records) {
    if (r.kind === "http") {
      const symbol = r.url === null ? snapshotSymbol : /\/depth\?symbol=([^&]+)/.exec(r.url)?.[1];
      if (symbol !== undefined) events.push({ kind: "snapshot", snapshot: toSnapshot(symbol, r.text) });
    } else if (r.kind === "ws") {
      const { stream, data } = JSON.parse(r.text);
      if (stream.includes("@depth")) {
        events.push({ kind: "diff", diff: toDiff(data) });
      } else if (stream.endsWith("@bookTicker")) {
        tickers.set(`${data.s} ${data.u}`, {
          bidPrice: Number(data.b),
          bidQty: Number(data.B),
          askPrice: Number(data.a),
          askQty: Number(data.A),
        });
      }
    }
  }
  return { events, tickers };
}

// ---- replay ----

interface SymbolRun {
  sync: BookSync;
  requests: SnapshotRequestReason[];
  gaps: SequenceGap[];
  snapshot: DepthSnapshot | null;
  fed: DepthDiff[];
  firstApplied: DepthDiff | null;
  checks: number;
  mismatches: string[];
  crossed: number;
}

function newRun(market: Market, symbol: string, tickers: Map<string, Ticker>): SymbolRun {
  const bid = [new Float64Array(1), new Float64Array(1)] as const;
  const ask = [new Float64Array(1), new Float64Array(1)] as const;
  const run: SymbolRun = {
    sync: undefined as unknown as BookSync,
    requests: [],
    gaps: [],
    snapshot: null,
    fed: [],
    firstApplied: null,
    checks: 0,
    mismatches: [],
    crossed: 0,
  };
  run.sync = new BookSync(market, symbol, {
    needSnapshot: (_symbol, reason) => run.requests.push(reason),
    snapshotApplied: (snapshot) => run.snapshot = snapshot,
    gap: (gap) => run.gaps.push(gap),
    diffApplied: (diff, book) => {
      run.firstApplied ??= diff;
      const hasBid = book.top("bid", 1, bid[0], bid[1]) === 1;
      const hasAsk = book.top("ask", 1, ask[0], ask[1]) === 1;
      if (hasBid && hasAsk && bid[0][0]! >= ask[0][0]!) run.crossed++;
      const t = tickers.get(`${symbol} ${diff.finalUpdateId}`);
      if (t === undefined) return;
      run.checks++;
      const got = [bid[0][0], bid[1][0], ask[0][0], ask[1][0]];
      const want = [t.bidPrice, t.bidQty, t.askPrice, t.askQty];
      if (!hasBid || !hasAsk || got.some((v, i) => v !== want[i])) {
        run.mismatches.push(`u=${diff.finalUpdateId}: book ${got} != bookTicker ${want}`);
      }
    },
  });
  return run;
}

function replay(market: Market, parsed: Parsed): Map<string, SymbolRun> {
  const runs = new Map<string, SymbolRun>();
  const runOf = (symbol: string) => {
    let run = runs.get(symbol);
    if (run === undefined) runs.set(symbol, run = newRun(market, symbol, parsed.tickers));
    return run;
  };
  for (const e of parsed.events) {
    if (e.kind === "diff") {
      const run = runOf(e.diff.symbol);
      run.fed.push(e.diff);
      run.sync.onDiff(e.diff);
    } else {
      runOf(e.snapshot.symbol).sync.onSnapshot(e.snapshot);
    }
  }
  return runs;
}

async function load(paths: string[], snapshotSymbol?: string): Promise<Parsed> {
  return parseRecords(await readFixtureRecords(...paths.map((p) => `binance/${p}`)), snapshotSymbol);
}

/** Every symbol synced once from its snapshot, with no gap, nothing left over, every check matching. */
function assertCleanRun(symbol: string, run: SymbolRun): void {
  const c = run.sync.counters;
  assert.equal(run.sync.state, "synced", `${symbol} state`);
  assert.deepEqual(run.requests, ["start"], `${symbol} snapshot requests`);
  assert.deepEqual(run.gaps, [], `${symbol} gaps`);
  assert.equal(c.gaps, 0, `${symbol} gap counter`);
  assert.equal(c.snapshotsRejected, 0, `${symbol} rejected snapshots`);
  assert.equal(c.duplicates, 0, `${symbol} duplicates`);
  assert.equal(run.sync.buffered, 0, `${symbol} buffered`);
  assert.equal(c.applied + c.dropped, run.fed.length, `${symbol}: every diff applied or dropped`);
  assert.deepEqual(run.mismatches, [], `${symbol} bookTicker mismatches`);
  assert.equal(run.crossed, 0, `${symbol}: book crossed after an applied diff`);
}

/** The diff just before the first applied one in the symbol's stream (the last dropped), if any. */
function lastDropped(run: SymbolRun): DepthDiff | undefined {
  return run.fed[run.fed.indexOf(run.firstApplied!) - 1];
}

function snapshotId(run: SymbolRun): number {
  return run.snapshot!.lastUpdateId;
}

function totalChecks(runs: Map<string, SymbolRun>): number {
  return [...runs.values()].reduce((sum, r) => sum + r.checks, 0);
}

// ---- hftbacktest ----

Deno.test("fixtures: hftbacktest spot BTCUSDT 2024-08-08 rebuilds with 3,449 diffs and 564 bookTicker checks", async () => {
  const runs = replay("spot", await load(["hftbacktest/spot/btcusdt_20240808.gz"], "BTCUSDT"));
  assert.deepEqual([...runs.keys()], ["BTCUSDT"]);
  const run = runs.get("BTCUSDT")!;
  assertCleanRun("BTCUSDT", run);
  assert.equal(snapshotId(run), 50093239218);
  assert.equal(run.sync.counters.dropped, 2);
  assert.equal(run.sync.counters.applied, 3449);
  assert.equal(run.firstApplied!.firstUpdateId, 50093239208);
  assert.equal(run.firstApplied!.finalUpdateId, 50093239224);
  assert.equal(run.sync.book.lastUpdateId, 50093421584);
  assert.equal(run.checks, 564);
});

Deno.test("fixtures: hftbacktest USD-M BTCUSDT 2024-07-18 (@depth@0ms) rebuilds with 3,321 diffs and 195 checks", async () => {
  const runs = replay("usdm", await load(["hftbacktest/usdm/btcusdt_20240718.gz"], "BTCUSDT"));
  const run = runs.get("BTCUSDT")!;
  assertCleanRun("BTCUSDT", run);
  assert.equal(snapshotId(run), 4984028384061);
  assert.equal(run.sync.counters.dropped, 5);
  assert.equal(run.sync.counters.applied, 3321);
  assert.equal(run.firstApplied!.firstUpdateId, 4984028382208);
  assert.equal(run.firstApplied!.finalUpdateId, 4984028384610);
  assert.equal(run.checks, 195);
  // U != previous u + 1 on futures: the spot continuity rule would have reported false gaps here.
  const skips = run.fed.filter((d, i) => i > 0 && d.firstUpdateId !== run.fed[i - 1]!.finalUpdateId + 1);
  assert.ok(skips.length > 3000, `only ${skips.length} U skips`);
});

Deno.test("fixtures: hftbacktest COIN-M BTCUSD_PERP 2024-08-08 rebuilds on pu over 26,824 diffs, every bookTicker matching", async () => {
  const runs = replay("coinm", await load(["hftbacktest/cm/btcusd_perp_20240808.gz"], "BTCUSD_PERP"));
  assert.deepEqual([...runs.keys()], ["BTCUSD_PERP"]);
  const run = runs.get("BTCUSD_PERP")!;
  assertCleanRun("BTCUSD_PERP", run);
  assert.equal(run.sync.counters.applied, 26_824, "SOURCES.md: 26,824 diffs after the snapshot");
  assert.ok(
    run.checks > 1000,
    `bookTicker cross-checks (a ticker whose u is an applied diff's u): ${run.checks}`,
  );
  // Quantities are contracts: whole numbers.
  assert.ok(run.fed.every((d) => [...d.bids, ...d.asks].every(([, q]) => Number.isInteger(q))));
  const skips = run.fed.filter((d, i) => i > 0 && d.firstUpdateId !== run.fed[i - 1]!.finalUpdateId + 1);
  assert.ok(skips.length > 20_000, `U skips on futures: ${skips.length}`);
});

// ---- cryptofeed ----

Deno.test("fixtures: cryptofeed spot 2021-04-04 (BTC/ETH/DOT) chain, including u == L+1 and U == L+1", async () => {
  const runs = replay("spot", await load(["cryptofeed/2021-04-04_commit-29970208/BINANCE-ee25be.0.gz"]));
  const expected = { BTCUSDT: [10, 889], ETHUSDT: [13, 896], DOTUSDT: [9, 871] };
  assert.deepEqual([...runs.keys()].sort(), Object.keys(expected).sort());
  for (const [symbol, [dropped, applied]] of Object.entries(expected)) {
    const run = runs.get(symbol)!;
    assertCleanRun(symbol, run);
    assert.equal(run.sync.counters.dropped, dropped, `${symbol} dropped`);
    assert.equal(run.sync.counters.applied, applied, `${symbol} applied`);
  }
  const btc = runs.get("BTCUSDT")!;
  assert.equal(btc.firstApplied!.finalUpdateId, snapshotId(btc) + 1);
  const dot = runs.get("DOTUSDT")!;
  assert.equal(lastDropped(dot)!.finalUpdateId, snapshotId(dot));
  assert.equal(dot.firstApplied!.firstUpdateId, snapshotId(dot) + 1);
});

Deno.test("fixtures: cryptofeed spot 2021-04-05, 10 symbols chain with 1,152 bookTicker checks", async () => {
  const runs = replay("spot", await load(["cryptofeed/2021-04-05_commit-1312c062/BINANCE-b38f7c.0.gz"]));
  assert.equal(runs.size, 10);
  for (const [symbol, run] of runs) {
    assertCleanRun(symbol, run);
    const applied = run.sync.counters.applied;
    assert.ok(applied >= 113 && applied <= 1017, `${symbol} applied ${applied}`);
  }
  assert.equal(totalChecks(runs), 1152);
  assert.equal(runs.get("DENTUSDT")!.checks, 301);
  const edge = [...runs].filter(([, r]) =>
    lastDropped(r)?.finalUpdateId === snapshotId(r) && r.firstApplied!.firstUpdateId === snapshotId(r) + 1
  );
  assert.equal(edge.length, 9, "symbols whose last dropped u == L and first applied U == L+1");
  const single = [...runs].filter(([, r]) =>
    r.firstApplied!.firstUpdateId === snapshotId(r) + 1 && r.firstApplied!.finalUpdateId === snapshotId(r) + 1
  ).map(([s]) => s).sort();
  assert.deepEqual(single, ["AXSBNB", "BTCAUD", "BTCSTUSDT", "ETHBRL", "NEOUSDC", "RENBTCETH"]);
});

Deno.test("fixtures: cryptofeed USD-M 2021-04-05, 5 symbols chain on pu, with U == L and u == L first events", async () => {
  const runs = replay(
    "usdm",
    await load(["cryptofeed/2021-04-05_commit-1312c062/BINANCE_FUTURES-1125a2.0.gz"]),
  );
  assert.equal(runs.size, 5);
  for (const [symbol, run] of runs) {
    assertCleanRun(symbol, run);
    const applied = run.sync.counters.applied;
    assert.ok(applied >= 769 && applied <= 938, `${symbol} applied ${applied}`);
  }
  assert.equal(totalChecks(runs), 215);
  const bat = runs.get("BATUSDT")!;
  assert.equal(bat.firstApplied!.firstUpdateId, snapshotId(bat));
  for (const symbol of ["CTKUSDT", "CHRUSDT"]) {
    const run = runs.get(symbol)!;
    assert.equal(run.firstApplied!.finalUpdateId, snapshotId(run), `${symbol} first applied u == L`);
  }
});

const MASTER = "cryptofeed/master_commit-ce58c2a0";

Deno.test("fixtures: cryptofeed master spot (split http/ws files) chains 4 symbols", async () => {
  const runs = replay("spot", await load([`${MASTER}/BINANCE.http.0.0.gz`, `${MASTER}/BINANCE.ws.1.0.gz`]));
  const expected = { NKNUSDT: 149, LRCBTC: 13, BLZETH: 9, RUNEEUR: 1 };
  assert.deepEqual([...runs.keys()].sort(), Object.keys(expected).sort());
  for (const [symbol, applied] of Object.entries(expected)) {
    const run = runs.get(symbol)!;
    assertCleanRun(symbol, run);
    assert.equal(run.sync.counters.applied, applied, `${symbol} applied`);
    assert.equal(lastDropped(run)!.finalUpdateId, snapshotId(run), `${symbol} last dropped u == L`);
    assert.equal(run.firstApplied!.firstUpdateId, snapshotId(run) + 1, `${symbol} first applied U == L+1`);
  }
  assert.ok(totalChecks(runs) > 0);
});

Deno.test("fixtures: cryptofeed master USD-M chains 4 symbols on pu with 50 bookTicker checks", async () => {
  const runs = replay(
    "usdm",
    await load([`${MASTER}/BINANCE_FUTURES.http.0.0.gz`, `${MASTER}/BINANCE_FUTURES.ws.1.0.gz`]),
  );
  assert.deepEqual([...runs.keys()].sort(), ["AKROUSDT", "CTKUSDT", "KEEPUSDT", "SUSHIUSDT"]);
  for (const [symbol, run] of runs) {
    assertCleanRun(symbol, run);
    const applied = run.sync.counters.applied;
    assert.ok(applied >= 132 && applied <= 252, `${symbol} applied ${applied}`);
  }
  assert.equal(totalChecks(runs), 50);
  const sushi = runs.get("SUSHIUSDT")!;
  assert.equal(sushi.firstApplied!.firstUpdateId, snapshotId(sushi));
  for (const symbol of ["AKROUSDT", "KEEPUSDT", "CTKUSDT"]) {
    const run = runs.get(symbol)!;
    assert.equal(run.firstApplied!.finalUpdateId, snapshotId(run), `${symbol} first applied u == L`);
  }
});

Deno.test("fixtures: cryptofeed master COIN-M chains 10 symbols (perpetual and quarterly) with 212 bookTicker checks", async () => {
  const runs = replay(
    "coinm",
    await load([`${MASTER}/BINANCE_DELIVERY.http.0.0.gz`, `${MASTER}/BINANCE_DELIVERY.ws.1.0.gz`]),
  );
  assert.equal(runs.size, 10);
  for (const [symbol, run] of runs) {
    assertCleanRun(symbol, run);
    const applied = run.sync.counters.applied;
    assert.ok(applied >= 101 && applied <= 228, `${symbol} applied ${applied}`);
  }
  assert.equal(totalChecks(runs), 212);
  const uEqualsL = [...runs].filter(([, r]) => r.firstApplied!.finalUpdateId === snapshotId(r)).map(([s]) =>
    s
  );
  assert.deepEqual(
    uEqualsL.sort(),
    ["BTCUSD_211231", "LINKUSD_211231", "LINKUSD_PERP", "TRXUSD_PERP", "XRPUSD_PERP"],
  );
});

// ---- negative: a diff removed from the real stream ----

/** Replays one symbol's events with the diff at `removeIndex` (an index into the diffs) left out. */
function replayWithout(market: Market, parsed: Parsed, symbol: string, removeIndex: number) {
  const diffs = parsed.events.flatMap((e) => e.kind === "diff" ? [e.diff] : []);
  const removed = diffs[removeIndex]!;
  const run = newRun(market, symbol, parsed.tickers);
  const outcomes: string[] = [];
  for (const e of parsed.events) {
    if (e.kind === "snapshot") {
      run.sync.onSnapshot(e.snapshot);
    } else if (e.diff !== removed) {
      run.fed.push(e.diff);
      outcomes.push(run.sync.onDiff(e.diff));
    }
  }
  return { run, outcomes, removed };
}

for (
  const [market, path, removeIndex, droppedAtStart] of [
    ["spot", "hftbacktest/spot/btcusdt_20240808.gz", 1000, 2],
    ["usdm", "hftbacktest/usdm/btcusdt_20240718.gz", 1500, 5],
  ] as const
) {
  Deno.test(`fixtures: ${market} diff #${removeIndex} removed from the real stream is a gap exactly there`, async () => {
    const parsed = await load([path], "BTCUSDT");
    const { run, outcomes, removed } = replayWithout(market, parsed, "BTCUSDT", removeIndex);
    const before = run.fed[removeIndex - 1]!;
    const after = run.fed[removeIndex]!;
    // The removed diff was the one continuing `before`.
    if (market === "spot") assert.equal(removed.firstUpdateId, before.finalUpdateId + 1);
    else assert.equal(removed.prevFinalUpdateId, before.finalUpdateId);

    // The diff after the hole is the one (and the only one) reported as a gap.
    assert.equal(outcomes.indexOf("gap"), removeIndex);
    assert.equal(outcomes.lastIndexOf("gap"), removeIndex);
    assert.equal(run.gaps.length, 1);
    assert.deepEqual(run.gaps[0], {
      market,
      symbol: "BTCUSDT",
      lastUpdateId: before.finalUpdateId,
      firstUpdateId: after.firstUpdateId,
      finalUpdateId: after.finalUpdateId,
      prevFinalUpdateId: after.prevFinalUpdateId,
      reason: market === "spot"
        ? `spot: U ${after.firstUpdateId} > lastUpdateId + 1 = ${before.finalUpdateId + 1}`
        : `usdm: pu ${after.prevFinalUpdateId} != lastUpdateId ${before.finalUpdateId}`,
    });
    assert.deepEqual(run.requests, ["start", "gap"]);
    // Everything before the hole was applied; everything from it on waits for a new snapshot.
    assert.equal(run.sync.counters.applied, removeIndex - droppedAtStart);
    assert.equal(run.sync.state, "buffering");
    assert.equal(run.sync.buffered, run.fed.length - removeIndex);
    assert.equal(run.sync.book.size, 0);

    // The only snapshot there is predates the hole: resyncing with it is refused and a newer one requested.
    const snapshot = parsed.events.flatMap((e) => e.kind === "snapshot" ? [e.snapshot] : [])[0]!;
    assert.equal(run.sync.onSnapshot(snapshot), "tooOld");
    assert.deepEqual(run.requests, ["start", "gap", "snapshotTooOld"]);
    assert.equal(run.sync.state, "buffering");
    assert.equal(run.sync.counters.resyncs, 0);
  });
}
