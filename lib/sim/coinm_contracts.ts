/**
 * COIN-M contracts of the simulated exchange: their names (`BTCUSD_PERP`, `BTCUSD_261225`), contract sizes and
 * the quarterly delivery calendar. Binance's delivery contracts expire at 08:00 UTC on the last Friday of March,
 * June, September and December; at any time a pair has the CURRENT_QUARTER and the NEXT_QUARTER contract, and a
 * new NEXT_QUARTER is onboarded when the current one delivers (so a contract's onboard date is the delivery
 * date two quarters before its own). Pure functions of their arguments.
 */

/** `deliveryDate` Binance prints for perpetuals (2100-12-25 08:00 UTC). */
export const PERPETUAL_DELIVERY_DATE = 4_133_404_800_000;
/** `onboardDate` of the simulated perpetuals (BTCUSD_PERP's, 2020-08-10). */
export const PERPETUAL_ONBOARD_DATE = 1_597_042_800_000;

/** What a COIN-M symbol's name says about its contract. */
export interface CoinmName {
  /** e.g. `BTCUSD`. */
  pair: string;
  /** e.g. `BTC` (the margin asset too). */
  baseAsset: string;
  /** Delivery time (epoch ms), or null for a perpetual. */
  deliveryDate: number | null;
}

const NAME = /^([A-Z0-9]+)USD_(PERP|(\d\d)(\d\d)(\d\d))$/;

/**
 * Parses a COIN-M symbol name: `<BASE>USD_PERP` or `<BASE>USD_YYMMDD` (delivering at 08:00 UTC that day); null
 * for anything else, including a date that does not exist.
 *
 * @example
 * ```ts
 * parseCoinmSymbol("BTCUSD_261225"); // { pair: "BTCUSD", baseAsset: "BTC", deliveryDate: Date.UTC(2026, 11, 25, 8) }
 * parseCoinmSymbol("BTCUSDT");       // null
 * ```
 */
export function parseCoinmSymbol(symbol: string): CoinmName | null {
  const m = NAME.exec(symbol);
  if (m === null) return null;
  const baseAsset = m[1]!;
  if (m[2] === "PERP") return { pair: `${baseAsset}USD`, baseAsset, deliveryDate: null };
  const [year, month, day] = [2000 + Number(m[3]), Number(m[4]), Number(m[5])];
  const date = Date.UTC(year, month - 1, day, 8);
  if (new Date(date).getUTCDate() !== day || month < 1 || month > 12) return null;
  return { pair: `${baseAsset}USD`, baseAsset, deliveryDate: date };
}

/** True for names that look like COIN-M symbols (see {@link parseCoinmSymbol}). */
export function isCoinmSymbol(symbol: string): boolean {
  return parseCoinmSymbol(symbol) !== null;
}

/**
 * USD value of one contract: 100 for BTC, 10 for every other coin.
 *
 * @example
 * ```ts
 * contractSize("BTC"); // 100
 * contractSize("ETH"); // 10
 * ```
 */
export function contractSize(baseAsset: string): number {
  return baseAsset === "BTC" ? 100 : 10;
}

/**
 * The delivery contract of `pair` delivering at `deliveryDate`.
 *
 * @example
 * ```ts
 * deliverySymbol("BTCUSD", Date.UTC(2026, 11, 25, 8)); // "BTCUSD_261225"
 * ```
 */
export function deliverySymbol(pair: string, deliveryDate: number): string {
  const d = new Date(deliveryDate);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${pair}_${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}`;
}

/** 08:00 UTC on the last Friday of `month` (0-based). */
function lastFriday(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  const back = (last.getUTCDay() - 5 + 7) % 7;
  return Date.UTC(year, month, last.getUTCDate() - back, 8);
}

/**
 * The first quarterly delivery time strictly after `time`.
 *
 * @example
 * ```ts
 * quarterlyAfter(Date.UTC(2026, 11, 3)); // Date.UTC(2026, 11, 25, 8)
 * ```
 */
export function quarterlyAfter(time: number): number {
  const d = new Date(time);
  let year = d.getUTCFullYear();
  let month = Math.floor(d.getUTCMonth() / 3) * 3 + 2;
  for (;;) {
    const t = lastFriday(year, month);
    if (t > time) return t;
    month += 3;
    if (month > 11) {
      month -= 12;
      year++;
    }
  }
}

/** The last quarterly delivery time strictly before `time`. */
export function quarterlyBefore(time: number): number {
  const d = new Date(time);
  let year = d.getUTCFullYear();
  let month = Math.floor(d.getUTCMonth() / 3) * 3 + 2;
  for (;;) {
    const t = lastFriday(year, month);
    if (t < time) return t;
    month -= 3;
    if (month < 0) {
      month += 12;
      year--;
    }
  }
}

/** When a delivery contract was onboarded: the quarterly delivery two quarters before its own. */
export function onboardDate(deliveryDate: number): number {
  return quarterlyBefore(quarterlyBefore(deliveryDate));
}
