/**
 * Exact decimal text for scaled integers. The simulator keeps every price and quantity as an integer count of
 * `10^-decimals` units (ticks, lots), so the wire text is built without floating-point rounding, and the double a
 * client parses from it is `units / 10^decimals` exactly (IEEE division is correctly rounded).
 */

const ZEROS = "0".repeat(32);
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Prints `units × 10^-decimals` with exactly `printDecimals` decimals (`printDecimals ≥ decimals`).
 *
 * @example
 * ```ts
 * formatScaled(6160201, 2, 8); // "61602.01000000"
 * formatScaled(5, 3, 3);       // "0.005"
 * ```
 */
export function formatScaled(units: number, decimals: number, printDecimals: number): string {
  const sign = units < 0 ? "-" : "";
  const digits = String(Math.abs(units));
  const pad = printDecimals - decimals;
  if (decimals === 0) return printDecimals === 0 ? sign + digits : `${sign}${digits}.${ZEROS.slice(0, pad)}`;
  const padded = digits.length > decimals ? digits : ZEROS.slice(0, decimals - digits.length + 1) + digits;
  const cut = padded.length - decimals;
  return `${sign}${padded.slice(0, cut)}.${padded.slice(cut)}${ZEROS.slice(0, pad)}`;
}

/**
 * The double nearest to the decimal `units × 10^-decimals`: what `parseFloat` returns for its text.
 *
 * @example
 * ```ts
 * scaledToNumber(6160201, 2); // 61602.01
 * ```
 */
export function scaledToNumber(units: number, decimals: number): number {
  return units / (POW10[decimals] ?? 10 ** decimals);
}
