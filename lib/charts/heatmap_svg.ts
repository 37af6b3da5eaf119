/**
 * The day's coverage heatmap as an SVG document (pure), for the Telegram picture: a title with the day's
 * totals, one row per market (all its symbols), then the worst and busiest symbols, 24 UTC hours across,
 * coloured like the status page, and a legend. Its size depends only on the number of rows, so a reader of the
 * PNG knows what to expect.
 * @module
 */

import { fmtCount, fmtPct } from "../report/text.ts";
import { type CoverageGrid, worstAndBusiest } from "./coverage_grid.ts";
import { HOURS } from "./day_coverage.ts";
import { COVERAGE_STEPS, coverageColour } from "./palette.ts";

/** The font the picture is drawn with (bundled with the renderer, see png.ts). */
export const HEATMAP_FONT = "Roboto Mono";

const PAD = 12;
const LABEL_W = 168;
const CELL_W = 24;
const PCT_W = 72;
const ROW_H = 18;
const TITLE_H = 52;
const HEADER_H = 18;
const LEGEND_H = 34;
const SEPARATOR_H = 8;

/** Width of every heatmap picture, px. */
export const HEATMAP_WIDTH = PAD + LABEL_W + HOURS * CELL_W + PCT_W + PAD;

/** Options of {@linkcode heatmapSvg}. */
export interface HeatmapOptions {
  /** Symbol rows drawn (worst, then busiest). @default 40 */
  symbols?: number;
}

/** A rendered picture and its size. */
export interface HeatmapPicture {
  svg: string;
  width: number;
  height: number;
  /** Symbol rows drawn. */
  rows: number;
}

/** Height of a picture with `markets` market rows and `symbols` symbol rows. */
export function heatmapHeight(markets: number, symbols: number): number {
  return TITLE_H + HEADER_H + (markets + symbols) * ROW_H + (symbols > 0 ? SEPARATOR_H : 0) + LEGEND_H + PAD;
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * Draws the heatmap of `grid`.
 *
 * @example
 * ```ts
 * import { coverageGrid } from "./coverage_grid.ts";
 * import { DayCoverageReader } from "./coverage_reader.ts";
 * import { Ledger } from "../ledger/ledger.ts";
 *
 * const ledger = new Ledger(await Deno.openKv(":memory:"));
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000; // 07:00 UTC
 * const span = { spanStartUs: hourUs, spanEndUs: hourUs + 3_600_000_000 };
 * await ledger.addCoverage("spot", "BTCUSDT", "aggTrade", hourUs, { messages: 3600, ...span });
 * await ledger.addCoverage("spot", "ETHUSDT", "aggTrade", hourUs, { messages: 1800, ...span });
 * await ledger.addGap("spot", {
 *   symbol: "ETHUSDT", stream: "aggTrade", kind: "disconnect", start_time: hourUs + 60e6,
 *   end_time: hourUs + 120e6, last_update_id: null, resume_update_id: null, reason: "socket closed",
 * });
 *
 * const day = await new DayCoverageReader(ledger).read("2024-01-02");
 * const { svg, width, height } = heatmapSvg(coverageGrid(day), { symbols: 40 });
 * svg.startsWith("<svg"); // true
 * ledger.close();
 * ```
 */
export function heatmapSvg(grid: CoverageGrid, options: HeatmapOptions = {}): HeatmapPicture {
  const shown = worstAndBusiest(grid, options.symbols ?? 40);
  const width = HEATMAP_WIDTH;
  const height = heatmapHeight(grid.markets.length, shown.length);
  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = "") =>
    out.push(`<text x="${x}" y="${y}"${attrs}>${esc(s)}</text>`);
  const cell = (x: number, y: number, pct: number | null) =>
    out.push(
      `<rect x="${x + 1}" y="${y + 1}" width="${CELL_W - 2}" height="${ROW_H - 2}" fill="${
        coverageColour(pct)
      }"/>`,
    );
  const observed = grid.markets.reduce((a, m) => a + m.observedSeconds, 0);
  const covered = grid.markets.reduce((a, m) => a + m.coveredSeconds, 0);
  const messages = grid.markets.reduce((a, m) => a + m.messages, 0);
  const complete = grid.symbols.filter((s) => s.pct >= 100 && s.gaps === 0).length;
  text(PAD, 22, `Coverage ${grid.date} (UTC)`, ' font-size="17" font-weight="bold"');
  text(
    PAD,
    42,
    grid.symbols.length === 0
      ? "nothing recorded"
      : `${fmtPct(observed === 0 ? 100 : (covered / observed) * 100)} · ${
        fmtCount(grid.symbols.length)
      } symbols · ${fmtCount(messages)} msgs · ${fmtCount(complete)} complete`,
    ' font-size="13" fill="#444"',
  );
  let y = TITLE_H;
  const x0 = PAD + LABEL_W;
  for (let h = 0; h < HOURS; h += 3) {
    text(x0 + h * CELL_W + 2, y + 13, String(h).padStart(2, "0"), ' font-size="11" fill="#555"');
  }
  text(x0 + HOURS * CELL_W + 6, y + 13, "day", ' font-size="11" fill="#555"');
  y += HEADER_H;
  const row = (label: string, hours: readonly (number | null)[], pct: number, bold: boolean) => {
    text(
      PAD,
      y + 13,
      label.length > 22 ? label.slice(0, 21) + "…" : label,
      bold ? ' font-weight="bold"' : "",
    );
    for (let h = 0; h < HOURS; h++) cell(x0 + h * CELL_W, y, hours[h] ?? null);
    text(x0 + HOURS * CELL_W + 6, y + 13, fmtPct(pct), pct < 100 ? ' fill="#b3261e"' : "");
    y += ROW_H;
  };
  for (const m of grid.markets) row(`${m.market} (${fmtCount(m.symbols)})`, m.hours, m.pct, true);
  if (shown.length > 0) y += SEPARATOR_H;
  for (const s of shown) {
    row(`${s.market} ${s.symbol}`, s.hours.map((c) => c?.pct ?? null), s.pct, false);
  }
  let lx = PAD;
  const ly = y + 12;
  for (const step of COVERAGE_STEPS) {
    out.push(`<rect x="${lx}" y="${ly}" width="14" height="12" fill="${step.colour}"/>`);
    text(lx + 18, ly + 11, step.label, ' font-size="11"');
    lx += 28 + step.label.length * 7;
  }
  out.push(`<rect x="${lx}" y="${ly}" width="14" height="12" fill="${coverageColour(null)}"/>`);
  text(lx + 18, ly + 11, "none", ' font-size="11"');
  if (grid.symbols.length > shown.length) {
    text(
      width - PAD,
      ly + 11,
      `${fmtCount(grid.symbols.length - shown.length)} more`,
      ' font-size="11" text-anchor="end" fill="#555"',
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${HEATMAP_FONT}" font-size="12" fill="#1b1f24">` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>${out.join("")}</svg>`;
  return { svg, width, height, rows: shown.length };
}
