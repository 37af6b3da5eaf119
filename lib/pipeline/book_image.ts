/**
 * The synced books of a market copied at a flush's checkpoint, so that the flush's synchronous step only copies
 * numbers: all levels go into one array kept from flush to flush, and are encoded later, a part at a time,
 * between frames (a whole market's books are ~15 MiB of base64). Each part becomes a
 * {@link RecordKind.CheckpointBooks} record; recovery puts the parts back with their checkpoint.
 * @module
 */
import { Buffer } from "node:buffer";
import type { OrderBook } from "../book/order_book.ts";
import type { JournalPosition } from "../storage/journal.ts";
import type { SavedBook } from "./stream_state.ts";

/** Levels of a part, in bytes of float64 (a part's text is about 4/3 of it). */
export const BOOK_PART_BYTES = 1 << 20;

interface ImagedBook {
  name: string;
  lastUpdateId: number;
  bids: number;
  asks: number;
  /** Index of the first bid number in the level array; the asks follow the bids. */
  at: number;
}

/** One part as journaled: the checkpoint it belongs to, and `[stream, lastUpdateId, bids, asks]` per book. */
interface BookPart {
  asOf: JournalPosition;
  books: [string, number, string, string][];
}

/** Synced books copied at one moment (see the module docs). */
export class BookImage {
  #levels = new Float64Array(1 << 16);
  #used = 0;
  #books: ImagedBook[] = [];

  /** Forgets the books of the last checkpoint (the level array is kept for the next one). */
  clear(): void {
    this.#used = 0;
    this.#books.length = 0;
  }

  /** Books copied since {@link clear}. */
  get count(): number {
    return this.#books.length;
  }

  /** Copies `book`'s levels (the book goes on changing; the copy does not). */
  add(name: string, book: OrderBook): void {
    const need = 2 * (book.depth("bid") + book.depth("ask"));
    if (this.#used + need > this.#levels.length) {
      const grown = new Float64Array(Math.max(2 * this.#levels.length, this.#used + need));
      grown.set(this.#levels.subarray(0, this.#used));
      this.#levels = grown;
    }
    const at = this.#used;
    const bids = book.copyLevels("bid", this.#levels, at);
    const asks = book.copyLevels("ask", this.#levels, at + 2 * bids);
    this.#used = at + 2 * (bids + asks);
    this.#books.push({ name, lastUpdateId: book.lastUpdateId, bids, asks, at });
  }

  /** The books as JSON parts of about `maxBytes` of levels each, encoded one at a time as they are asked for. */
  *parts(asOf: JournalPosition, maxBytes = BOOK_PART_BYTES): Generator<string> {
    let part: BookPart["books"] = [];
    let bytes = 0;
    for (const b of this.#books) {
      part.push([
        b.name,
        b.lastUpdateId,
        this.#base64(b.at, b.bids),
        this.#base64(b.at + 2 * b.bids, b.asks),
      ]);
      bytes += 16 * (b.bids + b.asks);
      if (bytes >= maxBytes) {
        yield JSON.stringify({ asOf, books: part } satisfies BookPart);
        part = [];
        bytes = 0;
      }
    }
    if (part.length > 0) yield JSON.stringify({ asOf, books: part } satisfies BookPart);
  }

  #base64(at: number, levels: number): string {
    const a = this.#levels;
    return Buffer.from(a.buffer, a.byteOffset + 8 * at, 16 * levels).toString("base64");
  }
}

/** Collects the parts of one checkpoint while recovery reads the journal. */
export class BookParts {
  readonly #books = new Map<string, SavedBook>();

  constructor(readonly asOf: JournalPosition) {}

  /** Adds a part's books; false (nothing added) when the part belongs to another checkpoint. */
  add(text: string): boolean {
    const part = JSON.parse(text) as BookPart;
    if (!samePosition(part.asOf, this.asOf)) return false;
    for (const [name, lastUpdateId, bids, asks] of part.books) {
      this.#books.set(name, { lastUpdateId, bids, asks });
    }
    return true;
  }

  /** The saved books by stream name. */
  get books(): ReadonlyMap<string, SavedBook> {
    return this.#books;
  }
}

/** Whether two journal positions are the same. */
export function samePosition(a: JournalPosition | undefined, b: JournalPosition | undefined): boolean {
  return a !== undefined && b !== undefined && a.segment === b.segment && a.offset === b.offset;
}
