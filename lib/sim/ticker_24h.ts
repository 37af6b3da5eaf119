/**
 * REST `ticker/24hr` bodies: rolling 24 h statistics of one symbol, from its hourly candles. The simulator has
 * rarely run for 24 h, so the part of the day before it started is filled in from the symbol's tuned activity
 * (as if it had traded at its usual pace, unless it was not trading or was listed while running): a quiet
 * symbol shows a small `quoteVolume` and a busy one a large one from the first second, so a client can filter
 * by 24 h volume. COIN-M has no `quoteVolume`: `volume` counts contracts and `baseVolume` is in the base asset.
 */
import type { Market } from "../binance/markets.ts";
import type { ListedSymbol } from "./exchange.ts";
import { formatPrice, formatQty, formatQuote } from "./frames.ts";
import { BASE_VOLUME_DECIMALS, quoteVolumeUnits } from "./symbol_spec.ts";

/** Which fields: spot `FULL` (default) or `MINI`; the futures have one shape each. */
export type TickerType = "FULL" | "MINI";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/**
 * Mean lots of one taker order in units of the symbol's typical level size, counting the levels the fair price
 * sweeps (calibrated against the model: observed/expected ≈ 1 for busy and quiet symbols alike).
 */
const LOTS_PER_TAKER = 0.9;
/** Mean trade ids (maker fills) per taker order. */
const FILLS_PER_TAKER = 2.2;

/**
 * The ticker object of one listed symbol at `now`, as JSON text.
 *
 * @example
 * ```ts
 * import { Exchange } from "./exchange.ts";
 * const exchange = new Exchange({ symbols: ["BTCUSDT"] }, Date.now());
 * ticker24h("spot", exchange.listed("spot")[0]!, Date.now(), "FULL"); // '{"symbol":"BTCUSDT",…}'
 * ```
 */
export function ticker24h(market: Market, listed: ListedSymbol, now: number, type: TickerType): string {
  const { engine } = listed;
  const s = engine.spec;
  const from = now - DAY_MS;
  const candles = engine.klines.get("1h")!.query(Math.floor(from / HOUR_MS) * HOUR_MS, now, 30);
  let volume = 0;
  let quote = 0;
  let count = 0;
  let high = -Infinity;
  let low = Infinity;
  for (const c of candles) {
    volume += c.volumeLots;
    quote += c.quoteVolume;
    count += c.trades;
    high = Math.max(high, c.high);
    low = Math.min(low, c.low);
  }
  const open = candles[0]!.open;
  const last = candles[candles.length - 1]!.close;
  // The day before the simulator started, at the symbol's tuned pace.
  const unseenMs = listed.hasPastDay ? Math.max(0, DAY_MS - (now - engine.startTime)) : 0;
  const takers = (engine.tradesPerSec * unseenMs) / 1000;
  const lots = Math.round(takers * LOTS_PER_TAKER * s.typicalLots);
  volume += lots;
  quote += quoteVolumeUnits(s, open, lots);
  count += Math.round(takers * FILLS_PER_TAKER);
  const lastTrade = engine.trades.query({ limit: 1 })[0];
  const lastId = count > 0 ? lastTrade?.lastTradeId ?? engine.lastTradeId : -1;
  const lastPrice = `"lastPrice":"${formatPrice(s, last)}",`;
  const range = `"openPrice":"${formatPrice(s, open)}","highPrice":"${formatPrice(s, high)}",` +
    `"lowPrice":"${formatPrice(s, low)}",`;
  const quoteName = s.contract === null ? "quoteVolume" : "baseVolume";
  const totals = `"volume":"${formatQty(s, volume)}","${quoteName}":"${formatQuote(s, Math.round(quote))}",` +
    `"openTime":${from},"closeTime":${now},"firstId":${count > 0 ? lastId - count + 1 : -1},` +
    `"lastId":${lastId},"count":${count}}`;
  if (type === "MINI") return `{"symbol":${s.json},${range}${lastPrice}${totals}`;
  const change = last - open;
  const percent = open === 0 ? 0 : (change / open) * 100;
  const avg = volume === 0 || quote === 0
    ? 0
    : s.contract === null
    ? quote / volume / 10 ** s.priceDecimals
    : (volume * s.contract.size) / (quote / 10 ** BASE_VOLUME_DECIMALS);
  const pair = s.contract === null ? "" : `"pair":"${s.pair}",`;
  const head = `{"symbol":${s.json},${pair}"priceChange":"${formatPrice(s, change)}",` +
    `"priceChangePercent":"${percent.toFixed(3)}","weightedAvgPrice":"${avg.toFixed(s.pricePrint)}",`;
  const lastQty = `"lastQty":"${formatQty(s, lastTrade?.lots ?? 0)}",`;
  if (market !== "spot") return `${head}${lastPrice}${lastQty}${range}${totals}`;
  const bid = engine.book.bids.bestTick() ?? 0;
  const ask = engine.book.asks.bestTick() ?? 0;
  return `${head}"prevClosePrice":"${formatPrice(s, open)}",${lastPrice}${lastQty}` +
    `"bidPrice":"${formatPrice(s, bid)}","bidQty":"${formatQty(s, engine.book.bids.get(bid))}",` +
    `"askPrice":"${formatPrice(s, ask)}","askQty":"${
      formatQty(s, engine.book.asks.get(ask))
    }",${range}${totals}`;
}
