/**
 * `symbols: all`: reads a market's exchangeInfo (and its 24 h tickers when a volume minimum is set) now and then,
 * and journals a {@link RecordKind.Universe} record whenever the symbols to record change, so that the live
 * normalizer and any later replay follow the same plan. A new listing joins (its connections open, its books
 * sync); a symbol that stops trading is retired cleanly. Each change is logged, raised as an alert, and appended
 * to `{dataDir}/_meta/universe.jsonl`.
 *
 * A REST outage never stops recording: the last known symbols stay recorded (they come back from the checkpoint
 * after a restart), and the read is retried sooner while the market has none at all.
 * @module
 */
import type { RestClient } from "../binance/rest.ts";
import type { Market } from "../binance/types.ts";
import { selectSymbols, type SymbolFilter, universeChange } from "../binance/universe.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { type JournalRecord, RecordKind } from "./records.ts";

/** What the watch needs. */
export interface UniverseDeps {
  market: Market;
  rest: Pick<RestClient, "exchangeInfo" | "tickers24h">;
  filter: SymbolFilter;
  /** The symbols recorded now (the normalizer's plan minus retired symbols). */
  current(): string[];
  record(rec: JournalRecord): void;
  log: Logger;
  clock: Clock;
  dataDir: string;
  onChange?(change: { market: Market; added: string[]; removed: string[] }): void;
  /** Retry delay while the market has no symbol yet. @default 15_000 */
  retryMs?: number;
}

/** Keeps one market's recorded symbols in step with the exchange. */
export class UniverseWatch {
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #running: Promise<boolean> | null = null;

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

  async #loop(): Promise<void> {
    if (this.#stopped) return;
    const ok = await this.refresh();
    if (this.#stopped) return;
    const soon = !ok && this.d.current().length === 0;
    this.#timer = setTimeout(
      () => void this.#loop(),
      soon ? this.d.retryMs ?? 15_000 : this.d.filter.refreshSec * 1000,
    );
  }

  async #refresh(): Promise<boolean> {
    const { market, rest, filter, log } = this.d;
    let next: string[];
    try {
      const info = await rest.exchangeInfo();
      const tickers = filter.minQuoteVolume > 0 ? (await rest.tickers24h()).value : null;
      next = selectSymbols(info.value.symbols, tickers, filter);
    } catch (err) {
      if (this.#stopped) return false;
      log("warn", "symbols: all: cannot read the exchange's symbols; keeping the current ones", {
        market,
        recorded: this.d.current().length,
        error: String(err),
      });
      return false;
    }
    if (this.#stopped) return false;
    const { add, remove } = universeChange(this.d.current(), next);
    if (add.length === 0 && remove.length === 0) return true;
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
