/**
 * The coverage colours, shared by the status page's heatmap and the Telegram picture so both read alike: green
 * only for complete hours, then yellow, orange and reds as more is missing; grey where nothing was observed.
 * @module
 */

/** Colour steps: a share at or above `min` percent takes `colour` (first match wins). */
export const COVERAGE_STEPS: readonly { min: number; colour: string; label: string }[] = [
  { min: 100, colour: "#1a7f37", label: "100%" },
  { min: 99.9, colour: "#8fd694", label: "≥99.9%" },
  { min: 99, colour: "#f2cc60", label: "≥99%" },
  { min: 90, colour: "#fb8f44", label: "≥90%" },
  { min: 50, colour: "#e5534b", label: "≥50%" },
  { min: -Infinity, colour: "#8c1022", label: "<50%" },
];

/** The colour of an hour nothing was observed in. */
export const NO_DATA_COLOUR = "#d0d7de";

/** Colours of gap kinds on the timeline. */
export const GAP_KIND_COLOURS: Readonly<Record<string, string>> = {
  sequence: "#cf222e",
  disconnect: "#8250df",
  stale: "#bf8700",
  backfilled: "#57606a",
};

/**
 * The colour of a covered share in percent (null: nothing observed).
 *
 * @example
 * ```ts
 * coverageColour(100); // "#1a7f37"
 * coverageColour(null); // NO_DATA_COLOUR
 * ```
 */
export function coverageColour(pct: number | null): string {
  if (pct === null) return NO_DATA_COLOUR;
  return COVERAGE_STEPS.find((s) => pct >= s.min)!.colour;
}
