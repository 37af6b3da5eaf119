/**
 * The day's coverage heatmap as a PNG for Telegram (the daily report and `/coverage`): the worst and busiest
 * symbols of the day, drawn as SVG (heatmap_svg.ts) and rendered by resvg (png.ts).
 * @module
 */

import { fmtCount } from "../report/text.ts";
import { coverageGrid } from "./coverage_grid.ts";
import type { DayCoverage } from "./day_coverage.ts";
import { heatmapSvg } from "./heatmap_svg.ts";

/** A picture ready to send. */
export interface CoveragePicture {
  png: Uint8Array;
  width: number;
  height: number;
  /** File name for the upload, e.g. `coverage-2024-01-02.png`. */
  filename: string;
  /** Plain-text caption (under Telegram's 1,024 characters). */
  caption: string;
}

/** Symbol rows of the picture. */
export const PICTURE_SYMBOLS = 40;

/**
 * The heatmap of `day`, or null when nothing was recorded that day (a blank picture would read as healthy).
 *
 * @example
 * ```ts
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
 * const picture = await coveragePicture(await new DayCoverageReader(ledger).read("2024-01-02"));
 * picture?.filename; // "coverage-2024-01-02.png"
 * picture?.caption; // "Coverage 2024-01-02 (UTC) per hour: all 2 symbols"
 * ledger.close();
 * ```
 */
export async function coveragePicture(day: DayCoverage): Promise<CoveragePicture | null> {
  const grid = coverageGrid(day);
  if (grid.symbols.length === 0) return null;
  const picture = heatmapSvg(grid, { symbols: PICTURE_SYMBOLS });
  const shown = picture.rows === grid.symbols.length
    ? `all ${fmtCount(grid.symbols.length)} symbols`
    : `the worst and busiest ${picture.rows} of ${fmtCount(grid.symbols.length)} symbols`;
  return {
    // resvg is loaded only when a picture is drawn (once a day in the collector).
    png: await (await import("./png.ts")).svgToPng(picture.svg),
    width: picture.width,
    height: picture.height,
    filename: `coverage-${day.date}.png`,
    caption: `Coverage ${day.date} (UTC) per hour: ${shown}`,
  };
}
