/**
 * What the normalizer keeps per stream, and its saved form (checkpoints journal it; recovery restores it).
 * @module
 */
import { MalformedMessageError, type Payload } from "../binance/messages.ts";
import type { PlannedStream } from "../binance/stream_plan.ts";
import type { BookSync } from "../book/sync.ts";
import { Buffer } from "node:buffer";
import type { BookImage, SavedBook } from "./book_image.ts";
import { StreamCursor } from "./stream_cursor.ts";

/** A gap that is still open: where data may be missing since `startUs`. */
export interface OpenGap {
  // Never changed once open (a stream's gap is replaced): a flush's captured state shares these objects.
  readonly kind: "sequence" | "disconnect" | "stale";
  readonly startUs: number;
  readonly lastId: number | null;
  readonly reason: string;
}

/** Per-stream state. */
export interface StreamState {
  ps: PlannedStream;
  cursor: StreamCursor<Payload>;
  gap: OpenGap | null;
  /** Depth streams only. */
  book: BookSync | null;
  /** Kline streams: open time of the last closed candle written. */
  lastClosedOpen: number;
  /** After a clean stop: the last frame its connections delivered (where the stop's gap begins). */
  downSinceUs: number;
  /** Its symbol stopped trading (`symbols: all`): silence is expected, no gap opens. */
  retired: boolean;
  /** Depth streams: local time of the last snapshot record (its rows carry it). */
  snapshotUs: number;
  /**
   * Depth streams: local time up to which the book is known whole (its snapshot's, or the last diff applied
   * since): where a sequence gap begins, since the diffs it lost came after.
   */
  bookUs: number;
  /** Messages routed to the stream in hour `countHourUs` (coverage statistics). */
  count: number;
  countHourUs: number;
  /** Totals since start (status and metrics). */
  totals: { messages: number; bytes: number; gaps: number };
}

/** The saved form of one stream. */
export interface SavedStream {
  name: string;
  conns: { id: number; sinceUs: number | null }[];
  owner: number;
  lastKey: number | null;
  lastLocalUs: number | null;
  gap: OpenGap | null;
  lastClosedOpen: number | null;
  /** Absent in states saved before 0.4. */
  downSinceUs?: number | null;
  /**
   * A synced book: each side as base64 of a little-endian float64 array `[price, qty, …]`, best first (states
   * saved before 0.4 hold `[price, qty]` pairs instead).
   */
  book: SavedBook | null;
}

/** Streams whose keys are consecutive (agg trade ids): a jump is a hole. */
const CONTIGUOUS_KINDS = new Set(["aggTrade"]);

/** A fresh state for `ps`; `book` for depth streams. */
export function newStreamState(ps: PlannedStream, book: BookSync | null): StreamState {
  return {
    ps,
    cursor: new StreamCursor<Payload>(CONTIGUOUS_KINDS.has(ps.kind)),
    gap: null,
    book,
    lastClosedOpen: -Infinity,
    downSinceUs: NaN,
    retired: false,
    snapshotUs: NaN,
    bookUs: NaN,
    count: 0,
    countHourUs: 0,
    totals: { messages: 0, bytes: 0, gaps: 0 },
  };
}

const num = (n: number) => (Number.isFinite(n) ? n : null);

/** The saved form of `st`: a synced book in full, or copied into `image` (then `book` is null here). */
export function saveStream(st: StreamState, image?: BookImage): SavedStream {
  let book: SavedStream["book"] = null;
  if (st.book?.state === "synced") {
    const b = st.book.book;
    const bridging = st.book.awaitingBridge;
    if (image) {
      image.add(st.ps.name, b, bridging);
    } else {
      book = {
        lastUpdateId: b.lastUpdateId,
        bids: packLevels(b.levels("bid")),
        asks: packLevels(b.levels("ask")),
        ...(bridging ? { bridging } : {}),
      };
    }
  }
  return {
    name: st.ps.name,
    conns: st.cursor.attached().map((c) => ({ id: c.id, sinceUs: num(c.sinceUs) })),
    owner: st.cursor.owner,
    lastKey: num(st.cursor.lastKey),
    lastLocalUs: num(st.cursor.lastLocalUs),
    gap: st.gap,
    lastClosedOpen: num(st.lastClosedOpen),
    downSinceUs: num(st.downSinceUs),
    book,
  };
}

/** Restores `st` from its saved form. */
export function restoreStream(st: StreamState, s: SavedStream): void {
  st.cursor.restore(
    s.conns.map((c) => ({ id: c.id, sinceUs: c.sinceUs ?? NaN })),
    s.owner,
    s.lastKey ?? NaN,
    s.lastLocalUs ?? NaN,
  );
  st.gap = s.gap;
  st.lastClosedOpen = s.lastClosedOpen ?? -Infinity;
  st.downSinceUs = s.downSinceUs ?? NaN;
  if (st.book) {
    // The book saved is whole as of the last diff admitted before the checkpoint (or earlier: then a gap
    // begins early rather than late).
    st.bookUs = s.lastLocalUs ?? NaN;
    if (s.book) {
      st.book.restore(
        {
          lastUpdateId: s.book.lastUpdateId,
          bids: unpackLevels(s.book.bids),
          asks: unpackLevels(s.book.asks),
        },
        s.book.bridging === true,
      );
    } else st.book.reset();
  }
}

/** Streams whose gaps carry the last and resume ids: depth (update ids), aggTrade and bookTicker. */
export function boundedById(st: StreamState): boolean {
  return st.book !== null || st.ps.kind === "aggTrade" || st.ps.kind === "bookTicker";
}

/**
 * A book side for a checkpoint: the float64 bytes in base64 (native, and a tenth of the time of printing every
 * number as JSON: a whole market's books are millions of levels).
 */
function packLevels(levels: Float64Array): string {
  return Buffer.from(levels.buffer, levels.byteOffset, levels.byteLength).toString("base64");
}

/** A saved book side back as `[price, qty]` levels, best first. */
function unpackLevels(saved: string | [number, number][]): [number, number][] {
  if (typeof saved !== "string") return saved;
  const bytes = Buffer.from(saved, "base64");
  const copy = new Uint8Array(bytes.length); // aligned for the float64 view
  copy.set(bytes);
  const f = new Float64Array(copy.buffer);
  const out: [number, number][] = new Array(f.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = [f[2 * i]!, f[2 * i + 1]!];
  return out;
}

/** An integer field of a payload, or a {@link MalformedMessageError}. */
export function intField(p: Payload, field: string): number {
  const v = p[field];
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  throw new MalformedMessageError(
    `Cannot parse field '${field}': ${v === undefined ? "missing" : "not an integer"}`,
  );
}

/** The key all connections share for a stream's messages, used to merge and de-duplicate them. */
export function orderingKey(kind: PlannedStream["kind"], p: Payload): number {
  switch (kind) {
    case "aggTrade":
      return intField(p, "a");
    case "trade":
      return intField(p, "t");
    case "bookTicker":
      return intField(p, "u");
    default:
      return intField(p, "E");
  }
}

/**
 * Where a silent stream's possible loss begins: its last message admitted, or the time its book was last known
 * whole if later (a book synced from its snapshot admits no message until the next diff); else, for a stream
 * that never delivered, when its connections subscribed; else `nowUs`.
 */
export function silentSinceUs(st: StreamState, nowUs: number): number {
  const known = [st.cursor.lastLocalUs, st.bookUs].filter((us) => !Number.isNaN(us));
  if (known.length > 0) return Math.max(...known);
  const subscribed = st.cursor.attached().map((c) => c.sinceUs).filter((us) => !Number.isNaN(us));
  return subscribed.length > 0 ? Math.min(...subscribed) : nowUs;
}
