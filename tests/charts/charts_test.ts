import assert from "node:assert/strict";
import { coverageGrid, worstAndBusiest } from "../../lib/charts/coverage_grid.ts";
import { DayCoverageReader } from "../../lib/charts/coverage_reader.ts";
import { dayFromRows, streamTotals } from "../../lib/charts/day_coverage.ts";
import { gapTimeline } from "../../lib/charts/gap_timeline.ts";
import { HEATMAP_WIDTH, heatmapHeight, heatmapSvg } from "../../lib/charts/heatmap_svg.ts";
import { pngSize, svgToPng } from "../../lib/charts/png.ts";
import { DAY_US } from "../../lib/ledger/intervals.ts";
import { Ledger } from "../../lib/ledger/ledger.ts";
import type { GapRecord } from "../../lib/ledger/records.ts";
import { ChartQueryError, parseCoverageQuery } from "../../lib/status/charts_api.ts";
import { RateHistory } from "../../lib/status/rate_history.ts";
import { buildSampleLedger, D, DATE, gapRow, M } from "../ledger/_sample_ledger.ts";

/** Per stream totals, sorted, rounded to the ms. */
const totals = (list: ReturnType<typeof streamTotals>) =>
  list.map((t) =>
    `${t.market} ${t.symbol} ${t.stream} ${t.messages} ${t.observedSeconds.toFixed(3)} ${
      t.coveredSeconds.toFixed(3)
    }`
  ).sort();

Deno.test("DayCoverageReader gives the figures of Ledger.coverage, and sees a gap recorded later", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  try {
    await buildSampleLedger(ledger);
    const reader = new DayCoverageReader(ledger, { maxAgeMs: 0, nowMs: () => D / 1000 + 2 * 86_400_000 });
    const expected = async () =>
      totals(
        streamTotals(
          dayFromRows(
            DATE,
            await ledger.coverage(DATE),
            await ledger.listGaps({ fromUs: D, toUs: D + DAY_US }),
          ),
        ),
      );
    assert.deepEqual(totals(streamTotals(await reader.read(DATE))), await expected());
    // Final hours are not read again, but a new gap's hours are computed from their stored spans.
    await ledger.addGap("spot", gapRow("BTCUSDT", "bookTicker", "stale", D + 5 * M, D + 8 * M));
    const after = totals(streamTotals(await reader.read(DATE)));
    assert.deepEqual(after, await expected());
    const [, , , , observed, covered] = after.find((l) => l.startsWith("spot BTCUSDT bookTicker "))!.split(
      " ",
    );
    assert.ok(Number(covered) < Number(observed), "the new gap lowers bookTicker's coverage");
  } finally {
    ledger.close();
  }
});

Deno.test("coverageGrid() puts the lowest covered symbol first and takes the worst stream per cell", () => {
  const H = 3_600_000_000;
  const row = (symbol: string, stream: string, hour: number, covered: number, messages: number) => ({
    market: "spot" as const,
    symbol,
    stream,
    hourUs: D + hour * H,
    messages,
    gaps: covered < 3600 ? 1 : 0,
    recordedSeconds: 3600,
    observedSeconds: 3600,
    gapSeconds: 3600 - covered,
    recoveredSeconds: 0,
    coveredSeconds: covered,
    pct: covered / 36,
  });
  const grid = coverageGrid(dayFromRows(DATE, [
    row("BUSY", "aggTrade", 0, 3600, 9000),
    row("QUIET", "aggTrade", 0, 3600, 10),
    row("HOLE", "aggTrade", 1, 1800, 50),
    row("HOLE", "depth@100ms", 1, 3600, 50),
  ], []));
  assert.deepEqual(grid.symbols.map((s) => s.symbol), ["HOLE", "BUSY", "QUIET"]);
  assert.equal(grid.symbols[0]!.hours[1]!.pct, 50, "the worst stream colours the cell");
  assert.equal(grid.symbols[0]!.pct, 75, "the day's share sums seconds");
  assert.equal(grid.symbols[0]!.hours[0], null);
  assert.deepEqual(grid.markets.map((m) => [m.market, m.symbols, m.hours[1]]), [["spot", 3, 75]]);
  assert.deepEqual(worstAndBusiest(grid, 2).map((s) => s.symbol), ["HOLE", "BUSY"]);
});

Deno.test("gapTimeline() ranks symbols by missing time, clips to the day and unions the missing intervals", () => {
  const g = (
    symbol: string,
    stream: string,
    kind: string,
    s: number,
    e: number,
    recovered = false,
  ): GapRecord => ({
    market: "spot",
    row: { ...gapRow(symbol, stream, kind as "stale", s, e) },
    recoveredAtUs: recovered ? e : null,
    recoveryNote: null,
  });
  const t = gapTimeline(D, [
    g("A", "aggTrade", "disconnect", D + 10 * M, D + 12 * M),
    g("A", "depth@100ms", "disconnect", D + 10 * M, D + 12 * M),
    g("B", "aggTrade", "stale", D - 5 * M, D + 5 * M),
    g("C", "aggTrade", "disconnect", D + 60 * M, D + 90 * M, true),
  ], { rows: 2 });
  assert.deepEqual(t.rows.map((r) => [r.symbol, r.missingSeconds]), [["B", 300], ["A", 240]]);
  assert.equal(t.moreSymbols, 1);
  assert.equal(t.rows[0]!.gaps[0]!.startMs, D / 1000, "clipped to the day");
  assert.deepEqual(t.any, [[D / 1000, D / 1000 + 5 * 60_000], [
    D / 1000 + 10 * 60_000,
    D / 1000 + 12 * 60_000,
  ]]);
  assert.deepEqual([t.count, t.unrecovered], [4, 3]);
});

Deno.test("heatmapSvg() has the documented size, and its PNG decodes to that size", async () => {
  const grid = coverageGrid(dayFromRows(DATE, [], []));
  const empty = heatmapSvg(grid);
  assert.deepEqual([empty.width, empty.height, empty.rows], [HEATMAP_WIDTH, heatmapHeight(0, 0), 0]);
  assert.match(empty.svg, /nothing recorded/);
  const png = await svgToPng(empty.svg);
  assert.deepEqual(pngSize(png), { width: HEATMAP_WIDTH, height: heatmapHeight(0, 0) });
  assert.throws(() => pngSize(new Uint8Array(30)), /not a PNG/);
  await assert.rejects(svgToPng("<svg"), /Cannot render the picture as PNG/);
});

Deno.test("parseCoverageQuery() reads the page, market and search and says what is wrong", () => {
  const now = Date.parse("2024-01-02T12:00:00Z");
  assert.deepEqual(parseCoverageQuery(new URLSearchParams(""), now), {
    date: "2024-01-02",
    offset: 0,
    limit: 40,
    market: null,
    search: "",
  });
  assert.deepEqual(
    parseCoverageQuery(new URLSearchParams("date=2024-01-01&offset=40&limit=10&market=usdm&q=btc"), now),
    { date: "2024-01-01", offset: 40, limit: 10, market: "usdm", search: "BTC" },
  );
  for (
    const [q, message] of [
      ["date=2024-02-30", /no such day/],
      ["date=yesterday", /expected YYYY-MM-DD/],
      ["limit=0", /limit '0': expected an integer from 1 to 200/],
      ["offset=-1", /offset/],
      ["market=eurex", /market 'eurex'/],
      ["q=a%3Cb", /letters and digits only/],
    ] as const
  ) {
    assert.throws(
      () => parseCoverageQuery(new URLSearchParams(q), now),
      (e: unknown) => e instanceof ChartQueryError && message.test(e.message),
    );
  }
});

Deno.test("RateHistory keeps an hour of per-market rates and starts over after a counter reset", () => {
  const h = new RateHistory({ windowMs: 60_000 });
  h.sample(0, new Map([["spot", 0]]));
  h.sample(10_000, new Map([["spot", 5_000], ["usdm", 100]]));
  h.sample(20_000, new Map([["spot", 15_000], ["usdm", 300]]));
  assert.deepEqual(h.series(), [
    { market: "spot", points: [[10_000, 500], [20_000, 1000]] },
    { market: "usdm", points: [[20_000, 20]] },
  ]);
  h.sample(30_000, new Map([["spot", 10]])); // restarted: no point
  h.sample(85_000, new Map([["spot", 560]]));
  assert.deepEqual(h.series()[0]!.points, [[85_000, 10]], "points older than the window are dropped");
});
