/**
 * Keeps a market's recorded symbols in step with the exchange: reads its exchangeInfo (and its 24 h tickers
 * when a volume minimum is set) now and then, and journals a {@link RecordKind.Universe} record whenever the
 * symbols to record change, so that the live normalizer and any later replay follow the same plan.
 * - `symbols: all`: every symbol in `TRADING` status that passes the filter. A new listing joins (its
 *   connections open, its books sync); a symbol that stops trading is retired cleanly.
 * - A list of symbols: the listed ones that are `TRADING`. A listed symbol that halts, is delisted or (COIN-M)
 *   reaches its delivery is retired (its silence is not a gap) and comes back if it trades again.
 * Each change is logged, raised as an alert, and appended to `{dataDir}/_meta/universe.jsonl`. exchangeInfo's
 * description of the recorded symbols (status, contract type and size, delivery, assets) is journaled as
 * {@link RecordKind.Instruments} whenever it changes, and so reaches the `instruments` table.
 *
 * A REST outage never stops recording: the last known symbols stay recorded (they come back from the checkpoint
 * after a restart), and the read is retried sooner while the market has none at all.
 * @module
 */
import type { RestClient } from "../binance/rest.ts";
import type { Market } from "../binance/types.ts";
import type { ExchangeSymbol } from "../binance/rest_parse.ts";
import { selectSymbols, type SymbolFilter, universeChange } from "../binance/universe.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { nextTurn } from "../loop_lag.ts";
import { type JournalRecord, RecordKind } from "./records.ts";

/** Symbols described in one {@link RecordKind.Instruments} record. */
const DESCRIBED_PER_RECORD = 250;

/** What the watch needs. */
export interface UniverseDeps {
  market: Market;
  rest: Pick<RestClient, "exchangeInfo" | "tickers24h">;
  /** `symbols: all`: which symbols; null: the `listed` ones, while they trade. */
  filter: SymbolFilter | null;
  /** The configured symbols, with a null filter. */
  listed?: readonly string[];
  /** With `symbols: all`, whether a selected symbol is this collector's (its shard's). @default every one */
  mine?(symbol: string): boolean;
  /** Read again this often with a null filter. @default 300_000 */
  refreshMs?: number;
  /** The symbols recorded now (the normalizer's plan minus retired symbols). */
  current(): string[];
  record(rec: JournalRecord): void;
  log: Logger;
  clock: Clock;
  dataDir: string;
  onChange?(change: { market: Market; added: string[]; removed: string[] }): void;
  /** Retry delay while the market has no symbol yet. @default 15_000 */
  retryMs?: number;
  /** Least time between two reads asked for by {@link UniverseWatch.nudge}. @default 15_000 */
  nudgeMinMs?: number;
}

/** Keeps one market's recorded symbols in step with the exchange. */
export class UniverseWatch {
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #running: Promise<boolean> | null = null;
  /** The instruments journaled last, by symbol (as JSON), to journal only what changed. */
  readonly #described = new Map<string, string>();
  /** When the last read started (ms), for {@link nudge}. */
  #lastReadMs = -Infinity;
  /** The earliest delivery time (ms) of a recorded contract, as the last read said. */
  #nextDeliveryMs = Infinity;

  constructor(private readonly d: UniverseDeps) {}

  /** Reads the exchange now and then every `filter.refreshSec` until {@link stop}. */
  start(): void {
    void this.#loop();
  }

  /** Stops the schedule (a read in flight is let finish; its result is not journaled). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One read; true when it succeeded (whether or not the symbols changed). Concurrent calls share one read. */
  refresh(): Promise<boolean> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /**
   * A recorded stream went quiet: read again soon (at most every `nudgeMinMs`) to learn whether its symbol
   * stopped trading, so that its silence is retired instead of being reported as a gap.
   */
  nudge(): void {
    if (this.#stopped || this.d.clock.nowMs() - this.#lastReadMs < (this.d.nudgeMinMs ?? 15_000)) return;
    void this.refresh();
  }

  async #loop(): Promise<void> {
    if (this.#stopped) return;
    const ok = await this.refresh();
    if (this.#stopped) return;
    const soon = !ok && this.d.current().length === 0;
    const every = this.d.filter === null ? this.d.refreshMs ?? 300_000 : this.d.filter.refreshSec * 1000;
    // A contract's delivery ends its streams at a known time: read just after it, not minutes later.
    const untilDelivery = this.#nextDeliveryMs + 1_000 - this.d.clock.nowMs();
    const wait = soon ? this.d.retryMs ?? 15_000 : Math.min(every, Math.max(untilDelivery, 1_000));
    this.#timer = setTimeout(() => void this.#loop(), wait);
  }

  async #refresh(): Promise<boolean> {
    const { market, rest, filter, log } = this.d;
    this.#lastReadMs = this.d.clock.nowMs();
    let next: string[];
    let info: ExchangeSymbol[];
    try {
      info = (await rest.exchangeInfo()).value.symbols;
      // A whole market's exchangeInfo is ~2,000 symbols: parsing it, journaling their description and planning
      // their streams are separate turns of the event loop, so that frames in between are not held up.
      await nextTurn();
      if (filter === null) {
        const trading = new Set(info.filter((s) => s.status === "TRADING").map((s) => s.symbol));
        next = (this.d.listed ?? []).filter((s) => trading.has(s));
      } else {
        const tickers = filter.minQuoteVolume > 0 ? (await rest.tickers24h()).value : null;
        next = selectSymbols(info, tickers, filter).filter((s) => this.d.mine?.(s) ?? true);
      }
    } catch (err) {
      if (this.#stopped) return false;
      log("warn", "exchangeInfo failed: keeping the recorded symbols (and the weight limit known so far)", {
        market,
        recorded: this.d.current().length,
        error: String(err),
      });
      return false;
    }
    if (this.#stopped) return false;
    const { add, remove } = universeChange(this.d.current(), next);
    const recorded = new Set(next);
    const nowMs = this.d.clock.nowMs();
    this.#nextDeliveryMs = Math.min(
      ...info.filter((s) => recorded.has(s.symbol) && s.deliveryDate! > nowMs).map((s) => s.deliveryDate!),
    );
    if (
      await this.#describe(info, filter === null ? new Set(this.d.listed) : new Set([...next, ...remove]))
    ) {
      await nextTurn();
      if (this.#stopped) return false;
    }
    if (add.length === 0 && remove.length === 0) return true;
    if (filter === null && remove.length > 0) {
      log("warn", "configured symbols not trading: not recorded until they trade", {
        market,
        symbols: remove.join(","),
      });
    }
    const atUs = this.d.clock.nowUs();
    this.d.record({
      localUs: atUs,
      market,
      conn: 0,
      kind: RecordKind.Universe,
      symbol: "",
      text: JSON.stringify({ add, remove }),
    });
    log("info", "symbols changed", {
      market,
      added: add.length,
      removed: remove.length,
      recorded: next.length,
    });
    this.d.onChange?.({ market, added: add, removed: remove });
    await this.#append({ time: new Date(atUs / 1000).toISOString(), market, added: add, removed: remove });
    return true;
  }

  /**
   * Journals the description of `symbols` that is new or changed since the last one journaled, at most
   * {@link DESCRIBED_PER_RECORD} symbols a record and a turn of the event loop. True when it journaled any.
   */
  async #describe(info: readonly ExchangeSymbol[], symbols: ReadonlySet<string>): Promise<boolean> {
    const changed = info.filter((s) => {
      if (!symbols.has(s.symbol)) return false;
      const text = JSON.stringify(s);
      if (this.#described.get(s.symbol) === text) return false;
      this.#described.set(s.symbol, text);
      return true;
    });
    for (let i = 0; i < changed.length && !this.#stopped; i += DESCRIBED_PER_RECORD) {
      if (i > 0) await nextTurn();
      this.d.record({
        localUs: this.d.clock.nowUs(),
        market: this.d.market,
        conn: 0,
        kind: RecordKind.Instruments,
        symbol: "",
        text: JSON.stringify(changed.slice(i, i + DESCRIBED_PER_RECORD)),
      });
    }
    return changed.length > 0;
  }

  /** The change log for people and tools (the journal is the authority). */
  async #append(line: unknown): Promise<void> {
    const dir = `${this.d.dataDir}/_meta`;
    try {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(`${dir}/universe.jsonl`, `${JSON.stringify(line)}\n`, { append: true });
    } catch (err) {
      this.d.log("warn", "universe change log not written", { error: String(err) });
    }
  }
}
