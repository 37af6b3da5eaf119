/**
 * Wire JSON of simulator events, in Binance's exact shapes per market (docs/binance-api.md §5): spot has no
 * `T`/`pu` in depth updates and no `e`/`E` in bookTicker; the futures markets add them, and mark prices. USD-M
 * aggTrade carries `nq`; COIN-M adds the pair `ps` to depth, bookTicker and forceOrder, has no `nq` and no mark
 * price `ap`, and prints `"r":""`, `"T":0` for delivery contracts. Frames are built with string templates once
 * per event; the server sends the same string to every subscriber.
 */
import { formatScaled } from "./decimal.ts";
import type {
  AggTradeEvent,
  BookTickerEvent,
  DiffEvent,
  ForceOrderEvent,
  KlineEvent,
  MarkPriceEvent,
  SimEvent,
} from "./events.ts";
import { MARK_EXTRA_DECIMALS, RATE_DECIMALS } from "./events.ts";
import { BASE_VOLUME_DECIMALS, type SymbolSpec } from "./symbol_spec.ts";

const price = (s: SymbolSpec, ticks: number) => formatScaled(ticks, s.priceDecimals, s.pricePrint);
const qty = (s: SymbolSpec, lots: number) => formatScaled(lots, s.qtyDecimals, s.qtyPrint);

/** Prints a price in ticks as the market prints it. */
export function formatPrice(spec: SymbolSpec, ticks: number): string {
  return price(spec, ticks);
}

/** Prints a quantity in lots as the market prints it. */
export function formatQty(spec: SymbolSpec, lots: number): string {
  return qty(spec, lots);
}

/** Prints a quote volume (ticks × lots units), or on COIN-M a base-asset volume (1e-8 units). */
export function formatQuote(spec: SymbolSpec, units: number): string {
  if (spec.contract !== null) return formatScaled(units, BASE_VOLUME_DECIMALS, BASE_VOLUME_DECIMALS);
  const decimals = spec.priceDecimals + spec.qtyDecimals;
  return formatScaled(units, decimals, spec.market === "spot" ? Math.max(8, decimals) : decimals);
}

/** Prints a mark/index price (units of `10^-(priceDecimals + 2)`) with 8 decimals, as the futures do. */
export function formatMark(spec: SymbolSpec, units: number): string {
  const decimals = spec.priceDecimals + MARK_EXTRA_DECIMALS;
  return formatScaled(units, decimals, Math.max(8, decimals));
}

/** Prints a funding rate (1e-8 units); `""` for none (a COIN-M delivery contract). */
export function formatRate(rate: number | null): string {
  return rate === null ? "" : formatScaled(rate, RATE_DECIMALS, RATE_DECIMALS);
}

/** The COIN-M pair field (`"ps":"BTCUSD",`); nothing elsewhere. */
function pairField(s: SymbolSpec): string {
  return s.contract === null ? "" : `"ps":"${s.pair}",`;
}

/** `[["price","qty"],…]` from flat `[tick, lots, …]` pairs. */
export function levelsJson(spec: SymbolSpec, pairs: readonly number[]): string {
  let out = "[";
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    out += `${i === 0 ? "" : ","}["${price(spec, pairs[i]!)}","${qty(spec, pairs[i + 1]!)}"]`;
  }
  return out + "]";
}

/** `depthUpdate`. */
export function depthFrame(ev: DiffEvent): string {
  const s = ev.spec;
  const levels = `"b":${levelsJson(s, ev.bids)},"a":${levelsJson(s, ev.asks)}}`;
  if (s.market === "spot") {
    return `{"e":"depthUpdate","E":${ev.eventTime},"s":${s.json},"U":${ev.firstId},"u":${ev.finalId},${levels}`;
  }
  return `{"e":"depthUpdate","E":${ev.eventTime},"T":${ev.transactionTime},"s":${s.json},${
    pairField(s)
  }"U":${ev.firstId},` +
    `"u":${ev.finalId},"pu":${ev.prevFinalId},${levels}`;
}

/**
 * `aggTrade` (spot carries the ignored `M`; USD-M carries `nq`, equal to `q` as nothing here is RPI; COIN-M
 * has neither).
 */
export function aggTradeFrame(ev: AggTradeEvent): string {
  const s = ev.spec;
  const q = qty(s, ev.lots);
  const head = `{"e":"aggTrade","E":${ev.eventTime},"s":${s.json},"a":${ev.aggId},"p":"${
    price(s, ev.priceTicks)
  }",`;
  if (s.market === "spot") {
    return `${head}"q":"${q}","f":${ev.firstTradeId},"l":${ev.lastTradeId},"T":${ev.tradeTime},"m":${ev.buyerMaker},` +
      `"M":true}`;
  }
  const nq = s.market === "usdm" ? `"nq":"${q}",` : "";
  return `${head}"q":"${q}",${nq}"f":${ev.firstTradeId},"l":${ev.lastTradeId},"T":${ev.tradeTime},` +
    `"m":${ev.buyerMaker}}`;
}

/** Spot `trade` events, one per fill of an aggregate trade. */
export function tradeFrames(ev: AggTradeEvent): string[] {
  const s = ev.spec;
  const p = price(s, ev.priceTicks);
  return ev.fills.map((lots, i) =>
    `{"e":"trade","E":${ev.eventTime},"s":${s.json},"t":${ev.firstTradeId + i},"p":"${p}","q":"${
      qty(s, lots)
    }",` +
    `"T":${ev.tradeTime},"m":${ev.buyerMaker},"M":true}`
  );
}

/** `kline`. */
export function klineFrame(ev: KlineEvent): string {
  const s = ev.spec;
  const c = ev.candle;
  return `{"e":"kline","E":${ev.eventTime},"s":${s.json},"k":{"t":${c.openTime},"T":${c.closeTime},"s":${s.json},` +
    `"i":"${c.interval}","f":${c.firstTradeId},"L":${c.lastTradeId},"o":"${price(s, c.open)}",` +
    `"c":"${price(s, c.close)}","h":"${price(s, c.high)}","l":"${price(s, c.low)}","v":"${
      qty(s, c.volumeLots)
    }",` +
    `"n":${c.trades},"x":${ev.closed},"q":"${formatQuote(s, c.quoteVolume)}","V":"${
      qty(s, c.takerBuyLots)
    }",` +
    `"Q":"${formatQuote(s, c.takerBuyQuote)}","B":"0"}}`;
}

/** `bookTicker`: spot has only u/s/b/B/a/A; the futures add e, E and T, COIN-M also `ps`. */
export function bookTickerFrame(ev: BookTickerEvent): string {
  const s = ev.spec;
  const tail = `"s":${s.json},${pairField(s)}"b":"${price(s, ev.bidTicks)}","B":"${qty(s, ev.bidLots)}",` +
    `"a":"${price(s, ev.askTicks)}","A":"${qty(s, ev.askLots)}"}`;
  if (s.market === "spot") return `{"u":${ev.updateId},${tail}`;
  return `{"e":"bookTicker","u":${ev.updateId},"E":${ev.eventTime},"T":${ev.eventTime},${tail}`;
}

/** `markPriceUpdate` (USD-M with the moving average `ap`, COIN-M without). */
export function markPriceFrame(ev: MarkPriceEvent): string {
  const s = ev.spec;
  const average = s.market === "usdm" ? `"ap":"${formatMark(s, ev.markAverage)}",` : "";
  return `{"e":"markPriceUpdate","E":${ev.eventTime},"s":${s.json},"p":"${formatMark(s, ev.mark)}",` +
    `${average}"i":"${formatMark(s, ev.index)}","P":"${formatMark(s, ev.settle)}",` +
    `"r":"${formatRate(ev.fundingRate)}","T":${ev.nextFundingTime}}`;
}

/** `forceOrder`. */
export function forceOrderFrame(ev: ForceOrderEvent): string {
  const s = ev.spec;
  const q = qty(s, ev.lots);
  return `{"e":"forceOrder","E":${ev.eventTime},"o":{"s":${s.json},${
    pairField(s)
  }"S":"${ev.side}","o":"LIMIT","f":"IOC",` +
    `"q":"${q}","p":"${price(s, ev.priceTicks)}","ap":"${
      price(s, ev.averageTicks)
    }","X":"FILLED","l":"${q}",` +
    `"z":"${q}","T":${ev.tradeTime}}}`;
}

/** The wire frame of any event except spot `trade` (see {@link tradeFrames}). */
export function eventFrame(ev: SimEvent): string {
  switch (ev.kind) {
    case "depth":
      return depthFrame(ev);
    case "aggTrade":
      return aggTradeFrame(ev);
    case "kline":
      return klineFrame(ev);
    case "bookTicker":
      return bookTickerFrame(ev);
    case "markPrice":
      return markPriceFrame(ev);
    case "forceOrder":
      return forceOrderFrame(ev);
  }
}

/** Spot `serverShutdown` notice. */
export function serverShutdownFrame(now: number): string {
  return `{"e":"serverShutdown","E":${now}}`;
}

/** The combined-stream envelope (stream names are letters, digits and `@_!`, so no escaping is needed). */
export function combinedFrame(stream: string, raw: string): string {
  return `{"stream":"${stream}","data":${raw}}`;
}
