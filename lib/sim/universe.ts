/**
 * A whole simulated market (`symbols: "all"`): about 1,500 spot, 500 USD-M and 40 COIN-M symbols with
 * real-looking names and a heavy-tailed spread of activity, so that a collector meets what Binance really
 * serves — a few very busy symbols (BTCUSDT, ETHUSDT), a long tail of quiet ones (a few book changes per second
 * or less, many seconds without a trade), and a few symbols that are not trading.
 *
 * Base assets are ranked by popularity: the best-known real ones first, then generated names. A symbol's rate is
 * Zipf-like in its base's rank, scaled by its quote asset (USDT pairs are the busiest, EUR pairs the quietest)
 * and a random factor. COIN-M has a perpetual per pair and, for the top quarter of its pairs, the current and
 * the next quarterly contract (named after their delivery dates, so they depend on `now`). Pure and
 * deterministic: the same seed (and `now`) give the same market.
 */
import type { Market } from "../binance/markets.ts";
import { deliverySymbol, quarterlyAfter } from "./coinm_contracts.ts";
import { hashSeed, Prng } from "./prng.ts";

/**
 * Trading status of a symbol, as exchangeInfo prints it: spot's `status`, or the futures' (`contractStatus` on
 * COIN-M). A COIN-M delivery contract is `DELIVERING` from its delivery time on.
 */
export type SymbolStatus = "TRADING" | "HALT" | "BREAK" | "DELIVERING";

/** The statuses spot's `exchangeInfo?symbolStatus=` filter accepts. */
export const SYMBOL_STATUSES: readonly SymbolStatus[] = ["TRADING", "HALT", "BREAK"];

/** One (market, symbol) of a generated market, with its instrument and activity settings. */
export interface Listing {
  market: Market;
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  status: SymbolStatus;
  /** Reference price in quote units. */
  price: number;
  /** Notional of a typical resting level, in quote units. */
  levelNotional: number;
  /** Book level changes by makers per second. */
  changesPerSec: number;
  /** Taker orders per second. */
  tradesPerSec: number;
  levelsPerSide: number;
  /** Relative volatility of the fair price per √second. */
  volatility: number;
}

/** Size and pace of a generated market. */
export interface UniverseOptions {
  seed: number;
  /** Symbols per market (default spot 1500, USD-M 500, COIN-M 40). */
  size?: Partial<Record<Market, number>>;
  /** Book changes per second of the busiest symbol (default 400). */
  topRate?: number;
  /** The COIN-M delivery contracts are the two quarters delivering after this time (default: now). */
  now?: number;
}

/** Default number of symbols per market. */
export const UNIVERSE_SIZE: Readonly<Record<Market, number>> = { spot: 1500, usdm: 500, coinm: 40 };

/** How busy each market is relative to USD-M. */
const MARKET_FACTOR: Readonly<Record<Market, number>> = { spot: 0.8, usdm: 1, coinm: 0.4 };
/** How busy COIN-M quarterly contracts are relative to their pair's perpetual. */
const QUARTER_FACTOR = { current: 0.3, next: 0.1 };
/** Yearly premium of a delivery contract over the coin's price (contango). */
const BASIS_PER_YEAR = 0.05;
const YEAR_MS = 365.25 * 86_400_000;

/** Base assets by popularity, with their USD price. */
const KNOWN_BASES: readonly (readonly [string, number])[] = [
  ["BTC", 61600],
  ["ETH", 3000],
  ["SOL", 150],
  ["BNB", 580],
  ["XRP", 0.52],
  ["DOGE", 0.12],
  ["ADA", 0.45],
  ["TRX", 0.12],
  ["AVAX", 28],
  ["LINK", 13],
  ["TON", 6.5],
  ["SHIB", 0.000018],
  ["DOT", 6],
  ["BCH", 380],
  ["NEAR", 5],
  ["LTC", 82],
  ["UNI", 7.5],
  ["PEPE", 0.0000095],
  ["APT", 7],
  ["SUI", 1.1],
  ["ETC", 23],
  ["FET", 1.3],
  ["ATOM", 6.5],
  ["FIL", 4],
  ["ARB", 0.7],
  ["OP", 1.6],
  ["INJ", 21],
  ["WIF", 2],
  ["HBAR", 0.07],
  ["TIA", 6],
  ["SEI", 0.35],
  ["BONK", 0.000021],
  ["FLOKI", 0.00014],
  ["AAVE", 95],
  ["ALGO", 0.14],
  ["RUNE", 4],
  ["LDO", 1.8],
  ["JUP", 0.9],
  ["PYTH", 0.35],
  ["ENA", 0.4],
  ["ORDI", 33],
  ["SAND", 0.3],
  ["GALA", 0.022],
  ["CHZ", 0.07],
  ["XLM", 0.09],
  ["EOS", 0.55],
  ["CRV", 0.3],
  ["DYDX", 1.1],
  ["WLD", 2.2],
  ["PENDLE", 4.5],
];

/** Quote assets by market; how busy their pairs are relative to USDT; their USD price. */
const QUOTE_FACTOR: Readonly<Record<string, number>> = {
  USD: 1,
  USDT: 1,
  FDUSD: 0.4,
  USDC: 0.3,
  BTC: 0.15,
  ETH: 0.08,
  TRY: 0.12,
  EUR: 0.05,
};
const QUOTE_USD: Readonly<Record<string, number>> = {
  USD: 1,
  USDT: 1,
  FDUSD: 1,
  USDC: 1,
  BTC: 61600,
  ETH: 3000,
  TRY: 0.031,
  EUR: 1.08,
};
/**
 * Chance that a base of rank ≤ `top` (else of any rank) has a spot pair in this quote: [top, pTop, pRest]. The
 * five most popular bases have a pair in every quote.
 */
const SPOT_QUOTES: readonly (readonly [string, number, number, number])[] = [
  ["USDT", 400, 1, 0.85],
  ["FDUSD", 60, 0.7, 0.04],
  ["BTC", 150, 0.6, 0.22],
  ["ETH", 50, 0.35, 0.07],
  ["TRY", 120, 0.5, 0.1],
  ["EUR", 30, 0.4, 0.02],
  ["USDC", 60, 0.5, 0.04],
];
/** A pair's price must be at least this many of the finest tick (1e-8), or Binance would not list it. */
const MIN_PRICE = 1e-6;

const ONSETS = "B C D F G H J K L M N P R S T V W X Z BL BR CR DR FL GR KR PL PR SK ST TR ZR".split(" ");
const VOWELS = "A E I O U Y AI EO IA OU".split(" ");
const CODAS = ["", "", "", "", "N", "R", "X", "K", "S", "T", "M", "L"];

/**
 * Generates a whole market.
 *
 * @example
 * ```ts
 * const listings = generateUniverse({ seed: 1 });
 * listings.filter((l) => l.market === "spot").length; // 1500
 * listings.filter((l) => l.market === "coinm").length; // 40: BTCUSD_PERP, BTCUSD_261225, BTCUSD_270326, …
 * ```
 */
export function generateUniverse(options: UniverseOptions): Listing[] {
  const size = { ...UNIVERSE_SIZE, ...options.size };
  const topRate = options.topRate ?? 400;
  const rng = new Prng(hashSeed(options.seed, "universe"));
  const bases = new BaseAssets(rng);
  const out: Listing[] = [];
  const taken = new Set<string>();
  const add = (market: Market, rank: number, base: Base, quote: string) => {
    const price = base.usd / QUOTE_USD[quote]!;
    const mini = market === "usdm" && price < 0.001;
    // USD-M lists coins worth a fraction of a cent per 1000 (1000PEPEUSDT), as Binance does.
    const baseAsset = mini ? `1000${base.name}` : base.name;
    const symbol = baseAsset + quote;
    if (quote === base.name || price < MIN_PRICE || taken.has(`${market}:${symbol}`)) return;
    taken.add(`${market}:${symbol}`);
    out.push(listing(market, rank, symbol, baseAsset, quote, mini ? price * 1000 : price, topRate, rng));
  };
  for (const market of ["spot", "usdm"] as const) {
    let count = 0;
    for (let rank = 1; count < size[market]; rank++) {
      const base = bases.at(rank);
      const quotes = market === "spot"
        ? SPOT_QUOTES.filter(([, top, pTop, pRest]) => rng.chance(rank <= top ? pTop : pRest) || rank <= 5)
          .map(([q]) => q)
        : [
          ...(rank <= 300 || rng.chance(0.6) ? ["USDT"] : []),
          ...(rank <= 60 && rng.chance(0.7) ? ["USDC"] : []),
        ];
      for (const quote of quotes) {
        if (count >= size[market]) break;
        const before = out.length;
        add(market, rank, base, quote);
        count += out.length - before;
      }
    }
  }
  out.push(...coinmListings(options.seed, size.coinm, topRate, options.now ?? Date.now()));
  return out;
}

/**
 * COIN-M: pairs in popularity order (coins under a tenth of a cent have none), each with its perpetual and,
 * for the first quarter of the pairs, its CURRENT_QUARTER and NEXT_QUARTER contracts. Its own random stream,
 * so the spot and USD-M listings do not depend on it.
 */
function coinmListings(seed: number, size: number, topRate: number, now: number): Listing[] {
  const rng = new Prng(hashSeed(seed, "universe", "coinm"));
  const bases = new BaseAssets(rng);
  const quarterlyPairs = Math.round(size / 4);
  const current = quarterlyAfter(now);
  const quarters = [[current, QUARTER_FACTOR.current], [
    quarterlyAfter(current),
    QUARTER_FACTOR.next,
  ]] as const;
  const out: Listing[] = [];
  for (let rank = 1, pairs = 0; out.length < size; rank++) {
    const base = bases.at(rank);
    if (base.usd < 0.001) continue;
    const pair = `${base.name}USD`;
    const add = (symbol: string, price: number, activity: number) => {
      if (out.length < size) {
        out.push(listing("coinm", rank, symbol, base.name, "USD", price, topRate, rng, activity));
      }
    };
    add(`${pair}_PERP`, base.usd, 1);
    if (pairs++ >= quarterlyPairs) continue;
    for (const [delivery, activity] of quarters) {
      add(
        deliverySymbol(pair, delivery),
        base.usd * (1 + BASIS_PER_YEAR * (delivery - now) / YEAR_MS),
        activity,
      );
    }
  }
  return out;
}

function listing(
  market: Market,
  rank: number,
  symbol: string,
  baseAsset: string,
  quoteAsset: string,
  price: number,
  topRate: number,
  rng: Prng,
  activity = 1,
): Listing {
  const noise = rank <= 10 ? 1 : Math.exp(0.6 * rng.normal());
  const factor = QUOTE_FACTOR[quoteAsset]! * MARKET_FACTOR[market] * activity;
  const rate = Math.max(0.02, (topRate / rank) * factor * noise);
  const busy = rate / topRate;
  // A few symbols of the spot and USD-M tail are not trading (halted, or in a break before delisting).
  const r = rng.next();
  const status: SymbolStatus = rank <= 20 || market === "coinm"
    ? "TRADING"
    : r < 0.006
    ? "HALT"
    : r < 0.02
    ? "BREAK"
    : "TRADING";
  const levelUsd = 5000 * Math.min(3, Math.max(0.03, Math.sqrt(rate / 50)));
  return {
    market,
    symbol,
    baseAsset,
    quoteAsset,
    status,
    price,
    levelNotional: levelUsd / QUOTE_USD[quoteAsset]!,
    changesPerSec: rate,
    tradesPerSec: rate / 40,
    levelsPerSide: Math.round(100 + 900 * busy ** 0.3),
    // Quiet books move little: otherwise the fair price's random walk would sweep them into trades.
    volatility: 2e-5 * Math.min(1, Math.sqrt(rate / 100)),
  };
}

interface Base {
  name: string;
  usd: number;
}

/** Base assets by rank: the known ones, then unique generated names with log-uniform prices. */
class BaseAssets {
  readonly #list: Base[] = KNOWN_BASES.map(([name, usd]) => ({ name, usd }));
  readonly #used = new Set<string>([...KNOWN_BASES.map(([n]) => n), ...Object.keys(QUOTE_USD)]);
  readonly #rng: Prng;

  constructor(rng: Prng) {
    this.#rng = rng;
  }

  /** The base of rank `rank` (1 = most popular). */
  at(rank: number): Base {
    while (this.#list.length < rank) this.#list.push(this.#generate());
    return this.#list[rank - 1]!;
  }

  #generate(): Base {
    const rng = this.#rng;
    const pick = (a: readonly string[]) => a[rng.int(a.length)]!;
    for (;;) {
      const syllables = 1 + rng.int(3);
      let name = "";
      for (let i = 0; i < syllables; i++) name += pick(ONSETS) + pick(VOWELS);
      name += pick(CODAS);
      if (name.length < 3 || name.length > 7 || this.#used.has(name)) continue;
      this.#used.add(name);
      // Prices from a ten-thousandth of a dollar to a thousand dollars, most below one.
      const usd = 10 ** (-4 + 7 * rng.next() ** 0.9);
      const digits = Math.floor(Math.log10(usd));
      const unit = 10 ** (digits - 3);
      return { name, usd: Math.round(usd / unit) * unit };
    }
  }
}
