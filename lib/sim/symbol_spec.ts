/**
 * Per-(market, symbol) instrument settings of the simulated exchange: tick and lot grids, how prices print on the
 * wire, and a realistic starting price. Popular symbols get their real price level; any other symbol gets one
 * derived from its name, so a benchmark can ask for fifty made-up symbols. A generated market
 * (`universe.ts`) gives each symbol its assets, price and level size instead.
 *
 * COIN-M symbols are contracts of `contractSize` USD (100 for BTC, 10 for the others): quantities are whole
 * contracts, and the kline `q` is a base-asset volume (contracts × size / price), not a quote volume.
 */
import type { Market } from "../binance/markets.ts";
import {
  contractSize,
  onboardDate,
  parseCoinmSymbol,
  PERPETUAL_DELIVERY_DATE,
  PERPETUAL_ONBOARD_DATE,
} from "./coinm_contracts.ts";
import { hashSeed } from "./prng.ts";

/** A COIN-M contract. */
export interface CoinmContract {
  /** USD per contract. */
  size: number;
  perpetual: boolean;
  /**
   * Delivery time ({@link PERPETUAL_DELIVERY_DATE} for perpetuals). The only mutable setting: the `deliver`
   * listing change moves it.
   */
  deliveryDate: number;
  onboardDate: number;
}

/** Decimals of COIN-M base-asset volumes (kline `q`/`Q`, ticker `baseVolume`), as Binance prints them. */
export const BASE_VOLUME_DECIMALS = 8;

/** Instrument settings; all prices and quantities in the simulator are integer ticks and lots of this spec. */
export interface SymbolSpec {
  market: Market;
  /** Upper case, as in REST and in event `s` fields. */
  symbol: string;
  /** Lower case, as in stream names (Unicode-aware). */
  lower: string;
  /** `JSON.stringify(symbol)`, precomputed for frame templates. */
  json: string;
  /** The COIN-M pair (`BTCUSD` of `BTCUSD_PERP`); the symbol itself elsewhere. */
  pair: string;
  /** The COIN-M contract; null on spot and USD-M. */
  contract: CoinmContract | null;
  baseAsset: string;
  quoteAsset: string;
  /** Tick size is `10^-priceDecimals`. */
  priceDecimals: number;
  /** Lot (step) size is `10^-qtyDecimals`. */
  qtyDecimals: number;
  /** Decimals printed for prices (spot always prints 8). */
  pricePrint: number;
  /** Decimals printed for quantities (spot always prints 8). */
  qtyPrint: number;
  /** Reference price in ticks, before the seed's jitter. */
  basePriceTicks: number;
  /** Typical resting quantity of one level, in lots (about 5000 quote units of notional). */
  typicalLots: number;
}

const KNOWN_PRICES: Readonly<Record<string, number>> = {
  BTCUSDT: 61600,
  ETHUSDT: 3000,
  BNBUSDT: 580,
  SOLUSDT: 150,
  XRPUSDT: 0.52,
  DOGEUSDT: 0.12,
  ADAUSDT: 0.45,
  LTCUSDT: 82,
};

/** What a generated listing fixes instead of deriving it from the name. */
export interface SpecSettings {
  baseAsset: string;
  quoteAsset: string;
  /** Reference price in quote units. */
  price: number;
  /** Notional of a typical resting level, in quote units (default 5000). */
  levelNotional?: number;
}

const QUOTES = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY"];

/** Spot prints every price and quantity with 8 decimals ("61602.01000000"). */
const SPOT_PRINT_DECIMALS = 8;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * Builds the spec of `symbol` on `market`; `settings` (from a generated listing) override what the name implies.
 *
 * @example
 * ```ts
 * const spec = symbolSpec("spot", "BTCUSDT"); // tick 0.01, lot 0.00001, prints "61602.01000000"
 * ```
 */
export function symbolSpec(market: Market, symbol: string, settings?: SpecSettings): SymbolSpec {
  if (market === "coinm") return coinmSpec(symbol, settings);
  const price = settings?.price ?? KNOWN_PRICES[symbol] ?? derivedPrice(symbol);
  const magnitude = Math.floor(Math.log10(price));
  const spotPriceDecimals = clamp(4 - magnitude, 2, 8);
  const spotQtyDecimals = clamp(magnitude + 1, 0, 8);
  // USD-M contracts use coarser grids on expensive symbols (BTCUSDT: tick 0.1, lot 0.001) and print fewer digits.
  const priceDecimals = market === "spot" ? spotPriceDecimals : spotPriceDecimals - (price >= 10000 ? 1 : 0);
  const qtyDecimals = market === "spot" ? spotQtyDecimals : Math.min(3, spotQtyDecimals);
  const quote = settings?.quoteAsset ?? QUOTES.find((q) => symbol.length > q.length && symbol.endsWith(q)) ??
    "USDT";
  return {
    market,
    symbol,
    lower: symbol.toLowerCase(),
    json: JSON.stringify(symbol),
    pair: symbol,
    contract: null,
    baseAsset: settings?.baseAsset ??
      (symbol.endsWith(quote) ? symbol.slice(0, symbol.length - quote.length) : symbol),
    quoteAsset: quote,
    priceDecimals,
    qtyDecimals,
    pricePrint: market === "spot" ? SPOT_PRINT_DECIMALS : spotPriceDecimals,
    qtyPrint: market === "spot" ? SPOT_PRINT_DECIMALS : qtyDecimals,
    basePriceTicks: Math.round(price * 10 ** priceDecimals),
    typicalLots: Math.max(1, Math.round(((settings?.levelNotional ?? 5000) / price) * 10 ** qtyDecimals)),
  };
}

/** COIN-M: whole contracts; prices print with the tick's decimals ("61602.1"), as the USD-M grid. */
function coinmSpec(symbol: string, settings?: SpecSettings): SymbolSpec {
  const name = parseCoinmSymbol(symbol);
  if (name === null) {
    throw new RangeError(
      `Cannot make a COIN-M spec of ${symbol}: expected <BASE>USD_PERP or <BASE>USD_YYMMDD`,
    );
  }
  const baseAsset = settings?.baseAsset ?? name.baseAsset;
  const price = settings?.price ?? KNOWN_PRICES[`${baseAsset}USDT`] ?? derivedPrice(name.pair);
  const priceDecimals = clamp(4 - Math.floor(Math.log10(price)), 2, 8) - (price >= 10000 ? 1 : 0);
  const size = contractSize(baseAsset);
  const delivery = name.deliveryDate;
  return {
    market: "coinm",
    symbol,
    lower: symbol.toLowerCase(),
    json: JSON.stringify(symbol),
    pair: name.pair,
    contract: {
      size,
      perpetual: delivery === null,
      deliveryDate: delivery ?? PERPETUAL_DELIVERY_DATE,
      onboardDate: delivery === null ? PERPETUAL_ONBOARD_DATE : onboardDate(delivery),
    },
    baseAsset,
    quoteAsset: "USD",
    priceDecimals,
    qtyDecimals: 0,
    pricePrint: priceDecimals,
    qtyPrint: 0,
    basePriceTicks: Math.round(price * 10 ** priceDecimals),
    typicalLots: Math.max(1, Math.round((settings?.levelNotional ?? 5000) / size)),
  };
}

/**
 * What one fill of `lots` at `ticks` adds to a candle's `q` (and the 24 h ticker's volume in the quote's
 * place), in the units `formatQuote` prints: ticks × lots on spot and USD-M (quote volume); on COIN-M the
 * base-asset volume lots × size / price in units of 1e-8, rounded per fill.
 *
 * @example
 * ```ts
 * quoteVolumeUnits(symbolSpec("coinm", "BTCUSD_PERP"), 616021, 3); // 3 × 100 / 61602.1 BTC = 486996 × 1e-8
 * ```
 */
export function quoteVolumeUnits(spec: SymbolSpec, ticks: number, lots: number): number {
  const c = spec.contract;
  if (c === null) return ticks * lots;
  return Math.round((lots * c.size * 10 ** (spec.priceDecimals + BASE_VOLUME_DECIMALS)) / ticks);
}

/** A log-uniform price between 0.05 and 5000, fixed by the symbol's name. */
function derivedPrice(symbol: string): number {
  const u = hashSeed("price", symbol) / 4294967296;
  const raw = 0.05 * 10 ** (u * 5);
  // Keep four significant digits so the reference price sits on a plausible grid.
  const digits = Math.floor(Math.log10(raw));
  const unit = 10 ** (digits - 3);
  return Math.round(raw / unit) * unit;
}
