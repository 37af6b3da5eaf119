/**
 * Short number formats for reports read on a phone (pure).
 * @module
 */

/** Three significant digits, e.g. `1.23`, `12.3`, `123`. */
function sig3(x: number): string {
  return x >= 99.95 ? x.toFixed(0) : x >= 9.995 ? x.toFixed(1) : x.toFixed(2);
}

function scaled(n: number, base: number, units: readonly string[], sep: string): string {
  let i = 0;
  let v = n;
  // Move up a unit before rounding would print "1000".
  while (i < units.length - 1 && Math.abs(v) >= base - 0.5 * (base / 1000)) {
    v /= base;
    i++;
  }
  return i === 0 ? `${n}${sep}${units[0]}`.trimEnd() : `${sig3(v)}${sep}${units[i]}`;
}

/**
 * A count with a k/M/G suffix.
 *
 * @example
 * ```ts
 * fmtCount(950); // "950"
 * fmtCount(1_234_567); // "1.23M"
 * ```
 */
export function fmtCount(n: number): string {
  return scaled(n, 1000, ["", "k", "M", "G", "T"], "");
}

/**
 * A byte size in binary units.
 *
 * @example
 * ```ts
 * fmtBytes(1536); // "1.50 KiB"
 * ```
 */
export function fmtBytes(n: number): string {
  return scaled(n, 1024, ["B", "KiB", "MiB", "GiB", "TiB"], " ");
}

/**
 * A duration in the two largest units.
 *
 * @example
 * ```ts
 * fmtDuration(4340); // "1h 12m"
 * fmtDuration(7.25); // "7.3s"
 * ```
 */
export function fmtDuration(seconds: number): string {
  if (seconds < 60) return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/**
 * A percentage rounded down to two decimals, so that only complete coverage reads `100%`.
 *
 * @example
 * ```ts
 * fmtPct(99.999); // "99.99%"
 * fmtPct(100); // "100%"
 * ```
 */
export function fmtPct(pct: number): string {
  return pct >= 100 ? "100%" : `${(Math.floor(pct * 100) / 100).toFixed(2)}%`;
}

/** `HH:MM:SS` of a µs timestamp (UTC). */
export function fmtTime(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().slice(11, 19);
}

/** Milliseconds with a sign and one decimal, e.g. `+1.5`, `-120.0`. */
export function fmtSignedMs(ms: number): string {
  return `${ms >= 0 ? "+" : ""}${ms.toFixed(1)}`;
}
