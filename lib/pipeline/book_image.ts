/**
 * The synced books of a market copied at a flush's checkpoint, so that the flush's capture (records held) only
 * copies numbers: the levels go into blocks of 1 MiB kept from flush to flush, and are encoded later, a part at
 * a time, between frames (a whole market's books are ~15 MiB of base64). Each part becomes a
 * {@link RecordKind.CheckpointBooks} record; recovery puts the parts back with their checkpoint.
 * @module
 */
import type { OrderBook } from "../book/order_book.ts";
import type { JournalPosition } from "../storage/journal.ts";

/** Levels of a part, in bytes of float64 (a part's text is about 4/3 of it). */
export const BOOK_PART_BYTES = 1 << 20;

/**
 * Numbers of a block of levels. Blocks, not one array grown by doubling: the first flush of a whole market
 * copied 21 MiB of levels into an array doubled six times (64 MiB allocated, zeroed and copied, 37 ms of the
 * flush's synchronous step; 4.5 ms once the array had its size).
 */
const BLOCK_NUMBERS = 1 << 17;

interface ImagedBook {
  name: string;
  lastUpdateId: number;
  bids: number;
  asks: number;
  /** The block holding its levels, and the index of its first bid number there; the asks follow the bids. */
  block: number;
  at: number;
  bridging: boolean;
}

/**
 * One part as journaled: the checkpoint it belongs to, and `[stream, lastUpdateId, bids, asks]` per book, `1`
 * after them for a book awaiting the diff that bridges its snapshot.
 */
interface BookPart {
  asOf: JournalPosition;
  books: [string, number, string, string, 1?][];
}

/** A saved book (see `SavedStream.book` in stream_state.ts). */
export interface SavedBook {
  lastUpdateId: number;
  bids: string | [number, number][];
  asks: string | [number, number][];
  /** The book was waiting for the diff that bridges its snapshot (`BookSync.awaitingBridge`). */
  bridging?: true;
}

/** Synced books copied at one moment (see the module docs). */
export class BookImage {
  readonly #blocks: Float64Array[] = [];
  /** The block being filled, and the numbers used in it. */
  #block = 0;
  #used = 0;
  #books: ImagedBook[] = [];
  readonly #out = new JsonBytes();

  /** Forgets the books of the last checkpoint (the blocks are kept for the next one). */
  clear(): void {
    this.#block = 0;
    this.#used = 0;
    this.#books.length = 0;
  }

  /** Books copied since {@link clear}. */
  get count(): number {
    return this.#books.length;
  }

  /** Copies `book`'s levels (the book goes on changing; the copy does not). */
  add(name: string, book: OrderBook, bridging = false): void {
    const need = 2 * (book.depth("bid") + book.depth("ask"));
    let levels = this.#blocks[this.#block];
    if (levels === undefined || this.#used + need > levels.length) {
      if (levels !== undefined) this.#block++;
      this.#used = 0;
      levels = this.#blocks[this.#block];
      // A book bigger than a block (no level cap) gets a block of its size in place of the next one.
      if (levels === undefined || need > levels.length) {
        levels = new Float64Array(Math.max(BLOCK_NUMBERS, need));
        this.#blocks[this.#block] = levels;
      }
    }
    const at = this.#used;
    const bids = book.copyLevels("bid", levels, at);
    const asks = book.copyLevels("ask", levels, at + 2 * bids);
    this.#used = at + 2 * (bids + asks);
    this.#books.push({ name, lastUpdateId: book.lastUpdateId, bids, asks, block: this.#block, at, bridging });
  }

  /**
   * The books as JSON parts of about `maxBytes` of levels each, encoded one at a time as they are asked for,
   * as UTF-8 bytes: a whole market is ~20 MiB of JSON a flush, which as strings would be garbage for the main
   * isolate's old generation. Each part is a view of a buffer the next part overwrites: journal it first.
   */
  *parts(asOf: JournalPosition, maxBytes = BOOK_PART_BYTES): Generator<Uint8Array> {
    const out = this.#out;
    const head = `{"asOf":${JSON.stringify(asOf)},"books":[`;
    out.reset(head);
    let bytes = 0;
    let inPart = 0;
    for (const b of this.#books) {
      if (inPart++ > 0) out.ascii(",");
      out.ascii(`[${JSON.stringify(b.name)},${b.lastUpdateId},"`);
      const levels = this.#blocks[b.block]!;
      out.base64(levels, b.at, b.bids);
      out.ascii('","');
      out.base64(levels, b.at + 2 * b.bids, b.asks);
      out.ascii(b.bridging ? '",1]' : '"]');
      bytes += 16 * (b.bids + b.asks);
      if (bytes >= maxBytes) {
        out.ascii("]}");
        yield out.bytes();
        out.reset(head);
        bytes = 0;
        inPart = 0;
      }
    }
    if (inPart > 0) {
      out.ascii("]}");
      yield out.bytes();
    }
  }
}

const BASE64 = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const PAD = 61; // "="

/** A growing byte buffer that JSON is written into: ASCII text (names are JSON-escaped) and base64 of levels. */
class JsonBytes {
  #buf = new Uint8Array(1 << 16);
  #len = 0;

  reset(head: string): void {
    this.#len = 0;
    this.ascii(head);
  }

  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Appends `text`, ASCII (JSON.stringify escapes everything else in a stream name). */
  ascii(text: string): void {
    this.#room(text.length);
    for (let i = 0; i < text.length; i++) this.#buf[this.#len++] = text.charCodeAt(i);
  }

  /** Appends the base64 of `count` levels (price and quantity float64s, little-endian) from `levels[at]` on. */
  base64(levels: Float64Array, at: number, count: number): void {
    const src = new Uint8Array(levels.buffer, levels.byteOffset + 8 * at, 16 * count);
    this.#room(4 * Math.ceil(src.length / 3));
    const out = this.#buf;
    let o = this.#len;
    const whole = src.length - (src.length % 3);
    let i = 0;
    for (; i < whole; i += 3) {
      const v = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
      out[o++] = BASE64[v >> 18]!;
      out[o++] = BASE64[(v >> 12) & 63]!;
      out[o++] = BASE64[(v >> 6) & 63]!;
      out[o++] = BASE64[v & 63]!;
    }
    if (i < src.length) {
      const two = i + 1 < src.length;
      const v = (src[i]! << 16) | (two ? src[i + 1]! << 8 : 0);
      out[o++] = BASE64[v >> 18]!;
      out[o++] = BASE64[(v >> 12) & 63]!;
      out[o++] = two ? BASE64[(v >> 6) & 63]! : PAD;
      out[o++] = PAD;
    }
    this.#len = o;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(2 * this.#buf.length, this.#len + n));
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
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
    for (const [name, lastUpdateId, bids, asks, bridging] of part.books) {
      this.#books.set(name, {
        lastUpdateId,
        bids,
        asks,
        ...(bridging === 1 ? { bridging: true as const } : {}),
      });
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
