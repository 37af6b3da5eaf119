/**
 * The `bookTicker` source of one symbol: after each book change, an event if the best bid or ask (price or
 * quantity) differs from the last one published.
 */
import type { BookModel } from "./book_model.ts";
import type { BookTickerEvent } from "./events.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/**
 * Tracks the published top of one book.
 *
 * @example
 * ```ts
 * import { BookModel } from "./book_model.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const book = new BookModel();
 * const ticker = new BookTicker(symbolSpec("spot", "BTCUSDT"), "btcusdt@bookTicker", book);
 * book.side("bid").set(6160100, 3);
 * book.side("ask").set(6160200, 2);
 * ticker.after(1001, Date.now()); // a BookTickerEvent: 6160100 × 3 / 6160200 × 2
 * ticker.after(1002, Date.now()); // null: the top did not change
 * ```
 */
export class BookTicker {
  readonly #spec: SymbolSpec;
  readonly #stream: string;
  readonly #book: BookModel;
  #bid = -1;
  #bidLots = -1;
  #ask = -1;
  #askLots = -1;

  /** Starts from the book's current top (not published). */
  constructor(spec: SymbolSpec, stream: string, book: BookModel) {
    this.#spec = spec;
    this.#stream = stream;
    this.#book = book;
    this.#bid = book.bids.bestTick() ?? -1;
    this.#ask = book.asks.bestTick() ?? -1;
    this.#bidLots = book.bids.get(this.#bid);
    this.#askLots = book.asks.get(this.#ask);
  }

  /** The event for a change with `updateId` at `now`, or null when the top is unchanged or a side is empty. */
  after(updateId: number, now: number): BookTickerEvent | null {
    const book = this.#book;
    const bid = book.bids.bestTick();
    const ask = book.asks.bestTick();
    if (bid === undefined || ask === undefined) return null;
    const bidLots = book.bids.get(bid);
    const askLots = book.asks.get(ask);
    if (bid === this.#bid && ask === this.#ask && bidLots === this.#bidLots && askLots === this.#askLots) {
      return null;
    }
    this.#bid = bid;
    this.#ask = ask;
    this.#bidLots = bidLots;
    this.#askLots = askLots;
    return {
      kind: "bookTicker",
      spec: this.#spec,
      stream: this.#stream,
      updateId,
      eventTime: now,
      bidTicks: bid,
      bidLots,
      askTicks: ask,
      askLots,
    };
  }
}
