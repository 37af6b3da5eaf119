/**
 * Row mapping per stream kind: an admitted message of a non-depth stream (trades, klines, book tickers,
 * liquidations, mark prices) becomes its row and ends its stream's open gap (a hole in agg trade ids opens and
 * closes one at once); REST funding and premium-index answers become rows too. Depth streams are
 * depth_stream.ts's. Pure.
 * @module
 */
import {
  MalformedMessageError,
  parseAggTrade,
  parseBookTicker,
  parseKline,
  parseLiquidation,
  parseMarkPrice,
  type Payload,
} from "../binance/messages.ts";
import { type ExchangeSymbol, parseFundingRates, parsePremiumIndex } from "../binance/rest_parse.ts";
import { klineIntervalMs } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { GapKeeper } from "./gap_keeper.ts";
import type { NormalizerStats, RowSink } from "./normalizer_contract.ts";
import type { JournalRecord } from "./records.ts";
import {
  bookTickerRow,
  fundingRow,
  instrumentRow,
  klineRow,
  liquidationRow,
  markPriceRow,
  premiumIndexRow,
  tradeRow,
} from "./rows.ts";
import { Admit } from "./stream_cursor.ts";
import type { StreamState } from "./stream_state.ts";

/** Rows of the non-depth streams of one market. */
export class StreamRows {
  constructor(
    private readonly market: Market,
    private readonly sink: RowSink,
    private readonly gaps: GapKeeper,
    private readonly stats: NormalizerStats,
    private readonly malformed: (err: MalformedMessageError, text: string) => void,
  ) {}

  /** An admitted (or refused) non-depth message: its row, and the end of its stream's open gap. */
  accept(
    st: StreamState,
    p: Payload,
    localUs: number,
    verdict: Admit,
    prevKey: number,
    prevUs: number,
  ): void {
    if (verdict === Admit.Duplicate) {
      this.stats.duplicates++;
      return;
    }
    if (verdict === Admit.Held) {
      this.stats.held++;
      return;
    }
    const symbol = st.ps.symbol;
    const key = st.cursor.lastKey;
    switch (st.ps.kind) {
      case "aggTrade": {
        const t = parseAggTrade(p);
        if (st.gap) this.gaps.close(st, localUs, t.aggTradeId);
        else if (verdict === Admit.Hole) {
          st.gap = {
            kind: "sequence",
            startUs: prevUs,
            lastId: prevKey,
            reason: `agg trade ids jump from ${prevKey} to ${t.aggTradeId}`,
          };
          this.gaps.close(st, localUs, t.aggTradeId);
        }
        this.sink.row(
          this.market,
          "trades",
          symbol,
          localUs,
          tradeRow(symbol, t, t.eventTime, localUs, "ws"),
        );
        return;
      }
      case "kline": {
        const k = parseKline(p);
        if (st.gap) this.gaps.close(st, localUs, null, k.openTime);
        if (!k.closed || k.openTime <= st.lastClosedOpen) return;
        const step = klineIntervalMs(k.interval);
        if (step !== null && Number.isFinite(st.lastClosedOpen) && k.openTime > st.lastClosedOpen + step) {
          // Closed candles follow each other: those between never arrived although the connection stayed up
          // (dropped frames). A hole like an outage's: REST backfill, else a gap row.
          st.gap = {
            kind: "sequence",
            startUs: prevUs,
            lastId: null,
            reason: `closed candles jump from open time ${st.lastClosedOpen} to ${k.openTime}`,
          };
          this.gaps.close(st, localUs, null, k.openTime);
        }
        st.lastClosedOpen = k.openTime;
        this.sink.row(
          this.market,
          "klines",
          symbol,
          localUs,
          klineRow(symbol, k.interval, k, k.eventTime, localUs),
        );
        return;
      }
      case "bookTicker": {
        const b = parseBookTicker(p);
        if (st.gap) this.gaps.close(st, localUs, key);
        this.sink.row(this.market, "book_tickers", symbol, localUs, bookTickerRow(symbol, b, localUs));
        return;
      }
      case "forceOrder": {
        const l = parseLiquidation(p);
        if (st.gap) this.gaps.close(st, localUs, null);
        this.sink.row(this.market, "liquidations", symbol, localUs, liquidationRow(symbol, l, localUs));
        return;
      }
      case "markPrice": {
        const m = parseMarkPrice(p);
        if (st.gap) this.gaps.close(st, localUs, null);
        this.sink.row(this.market, "mark_prices", symbol, localUs, markPriceRow(symbol, m, localUs));
        return;
      }
      default:
        // `trade` frames stay in the journal only: the contract's trade tape is aggTrade.
        if (st.gap) this.gaps.close(st, localUs, key);
    }
  }

  /** Journaled exchangeInfo entries of recorded symbols (new or changed): `instruments` rows. */
  instruments(rec: JournalRecord): void {
    let list: unknown;
    try {
      list = JSON.parse(rec.text);
    } catch {
      list = null;
    }
    if (!Array.isArray(list)) {
      this.malformed(new MalformedMessageError("Cannot parse instruments: not a JSON array"), rec.text);
      return;
    }
    for (const s of list as ExchangeSymbol[]) {
      if (typeof s?.symbol !== "string" || typeof s.status !== "string") continue;
      this.sink.row(this.market, "instruments", s.symbol, rec.localUs, instrumentRow(s, rec.localUs));
    }
  }

  /**
   * A REST `fundingRate` page (`text` is `<startTimeMs>\n<body>`): entries from the start time on are new, the
   * poll having started after the last funding time recorded.
   */
  fundingRates(rec: JournalRecord): void {
    const nl = rec.text.indexOf("\n");
    const startMs = Number(rec.text.slice(0, nl));
    try {
      for (const f of parseFundingRates(rec.text.slice(nl + 1))) {
        if (f.symbol !== rec.symbol || !(f.fundingTime >= startMs)) continue;
        this.sink.row(this.market, "funding_rates", f.symbol, rec.localUs, fundingRow(f, rec.localUs));
      }
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.malformed(err, rec.text);
    }
  }

  /** A REST `premiumIndex` answer: mark prices of the recorded symbols whose mark price is not streamed. */
  premiumIndex(rec: JournalRecord, polled: ReadonlySet<string>): void {
    try {
      for (const p of parsePremiumIndex(rec.text)) {
        if (!polled.has(p.symbol)) continue;
        this.sink.row(this.market, "mark_prices", p.symbol, rec.localUs, premiumIndexRow(p, rec.localUs));
      }
    } catch (err) {
      if (!(err instanceof MalformedMessageError)) throw err;
      this.malformed(err, rec.text);
    }
  }
}
