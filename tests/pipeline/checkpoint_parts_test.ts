/**
 * A flush's checkpoint is taken as of its FlushMark and journaled later, its books a part per event-loop turn:
 * the market's records journaled in between come after the saved state. Recovery must put the parts back, replay
 * those records (not lose them), and not replay anything before the FlushMark (not duplicate it).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import { OrderBook } from "../../lib/book/order_book.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { BookImage, BookParts } from "../../lib/pipeline/book_image.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import { type JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";
import { recover } from "../../lib/pipeline/recovery.ts";
import { JournalWriter } from "../../lib/storage/journal.ts";
import { recordsOf, textRows } from "./_records.ts";

const S = 1_000_000;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT"];
const plan = () =>
  planStreams({ market: "spot", wsUrl: "wss://x", symbols: SYMBOLS, streams: ["depth@100ms", "aggTrade"] });
const rec = recordsOf("spot");

/** A normalizer whose rows are kept as text, in order. */
function normalizer(rows: string[]): MarketNormalizer {
  return new MarketNormalizer(plan(), textRows(rows), { needSnapshot: () => {} }, { topLevels: 5 });
}

const diff = (symbol: string, first: number, last: number, price: number, qty: string) =>
  JSON.stringify({
    stream: `${symbol.toLowerCase()}@depth@100ms`,
    data: {
      e: "depthUpdate",
      E: first,
      s: symbol,
      U: first,
      u: last,
      b: [[String(price), qty]],
      a: [[String(price + 1000), qty]],
    },
  });
const trade = (symbol: string, id: number) =>
  JSON.stringify({
    stream: `${symbol.toLowerCase()}@aggTrade`,
    data: { e: "aggTrade", E: id, s: symbol, a: id, p: "100", q: "1", f: id, l: id, T: id, m: false },
  });

/** Frames of every symbol for update ids `from..to` (one diff and one trade each). */
function frames(fromId: number, toId: number, atUs: number): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (let id = fromId; id <= toId; id++) {
    for (const [i, s] of SYMBOLS.entries()) {
      out.push(
        rec(atUs + id * 1000 + i, 1, RecordKind.Frame, diff(s, id, id, 50_000 - id * 0.5 - i, `${id % 7}`)),
      );
      out.push(rec(atUs + id * 1000 + i, 1, RecordKind.Frame, trade(s, id)));
    }
  }
  return out;
}

Deno.test("checkpoint parts: books split over several parts come back level for level", () => {
  const a = normalizer([]);
  const key = plan().connections[0]!.key;
  a.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
  a.process(rec(1 * S, 1, RecordKind.Subscribed));
  for (const r of frames(11, 14, 1 * S)) a.process(r);
  for (const [i, s] of SYMBOLS.entries()) {
    const bids = Array.from(
      { length: 400 + i },
      (_, j) => [String(60_000 - j * 0.01 - 0.1 - 0.2), String(j + 1)],
    );
    const asks = Array.from({ length: 300 }, (_, j) => [String(60_001 + j * 0.01), "1e-8"]);
    a.process(rec(2 * S, 0, RecordKind.Snapshot, JSON.stringify({ lastUpdateId: 12, bids, asks }), s));
  }
  for (const r of frames(15, 30, 3 * S)) a.process(r);
  const asOf = { segment: 3, offset: 1234 };
  const image = new BookImage();
  const state = a.captureState(image, asOf).text();
  assert.equal(image.count, SYMBOLS.length);
  assert.equal(JSON.parse(state).asOf.offset, 1234);
  const parts = Array.from(image.parts(asOf, 8_000), (p) => new TextDecoder().decode(p));
  assert.equal(parts.length, SYMBOLS.length, "each book (~11 KB of levels) fills a part of 8 KB");
  // The books went on changing after the capture: the parts hold them as they were.
  for (const r of frames(31, 31, 4 * S)) a.process(r);
  const expected = SYMBOLS.map((s) => Array.from(a.bookOf(s)!.book.levels("bid")));
  const collected = new BookParts(asOf);
  assert.equal(collected.add(JSON.stringify({ asOf: { segment: 3, offset: 99 }, books: [] })), false);
  for (const p of parts) assert.ok(collected.add(p));
  const b = normalizer([]);
  b.restoreState(state, collected.books);
  for (const r of frames(31, 31, 4 * S)) b.process(r);
  for (const [i, s] of SYMBOLS.entries()) {
    assert.equal(b.bookOf(s)?.state, "synced", s);
    assert.deepEqual(Array.from(b.bookOf(s)!.book.levels("bid")), expected[i], s);
    assert.deepEqual(b.bookOf(s)!.book.levels("ask"), a.bookOf(s)!.book.levels("ask"), s);
  }
});

Deno.test("checkpoint parts: the JSON of the books, levels in base64 as node's Buffer writes it", () => {
  const image = new BookImage();
  const books: { name: string; book: OrderBook }[] = [];
  // 16 bytes a level: 1, 2 and 3 levels leave each remainder of base64's 3-byte groups; one book is empty.
  for (const [i, n] of [1, 2, 3, 0, 40].entries()) {
    const book = new OrderBook();
    const levels = (sign: number) =>
      Array.from({ length: n }, (_, k) => [100 + sign * (k + 1) * 0.37, 1 / (k + 3)] as [number, number]);
    book.reset({ lastUpdateId: 1000 + i, bids: levels(-1), asks: levels(1) });
    books.push({ name: `s${i}@depth@100ms "q"`, book });
    image.add(books[i]!.name, book);
  }
  const b64 = (levels: Float64Array) =>
    Buffer.from(levels.buffer, levels.byteOffset, levels.byteLength).toString("base64");
  const asOf = { segment: 7, offset: 42 };
  const expected = books.map(({ name, book }) => [
    name,
    book.lastUpdateId,
    b64(book.levels("bid")),
    b64(book.levels("ask")),
  ]);
  for (const maxBytes of [1, 100, 1 << 20]) {
    const parts = Array.from(image.parts(asOf, maxBytes), (p) => JSON.parse(new TextDecoder().decode(p)));
    assert.ok(parts.every((p) => p.asOf.segment === 7 && p.asOf.offset === 42));
    assert.deepEqual(parts.flatMap((p) => p.books), expected, `parts of ${maxBytes} bytes`);
  }
});

Deno.test("checkpoint parts: books over many 1 MiB blocks, one bigger than a block, captured twice", () => {
  const image = new BookImage();
  const b64 = (levels: Float64Array) =>
    Buffer.from(levels.buffer, levels.byteOffset, levels.byteLength).toString("base64");
  const book = (id: number, n: number) => {
    const b = new OrderBook(undefined, n);
    const side = (sign: number) =>
      Array.from(
        { length: n },
        (_, k) => [1000 + sign * (k + 1) * 0.01 + id, k + id / 7] as [number, number],
      );
    b.reset({ lastUpdateId: id, bids: side(-1), asks: side(1) });
    return b;
  };
  const asOf = { segment: 1, offset: 2 };
  // 1,000 levels a side is 4,000 numbers: 32 books fill a block of 131,072 numbers but for 3,072, so the 33rd
  // starts the next block; 40,000 levels a side (160,000 numbers) do not fit in any block.
  for (const sizes of [[...Array(70).fill(1000), 40_000, 3, 1000], [5, 40_000, ...Array(40).fill(999)]]) {
    image.clear();
    const books = sizes.map((n, i) => ({ name: `s${i}@depth`, book: book(i + 1, n) }));
    for (const { name, book } of books) image.add(name, book);
    assert.equal(image.count, books.length);
    const parts = Array.from(image.parts(asOf), (p) => JSON.parse(new TextDecoder().decode(p)));
    assert.deepEqual(
      parts.flatMap((p) => p.books),
      books.map((
        { name, book },
      ) => [name, book.lastUpdateId, b64(book.levels("bid")), b64(book.levels("ask"))]),
    );
  }
});

Deno.test("checkpoint parts: a captured state is the state at its capture, whenever it is stringified", () => {
  const n = normalizer([]);
  n.process(rec(1 * S, 1, RecordKind.ConnOpen, plan().connections[0]!.key));
  n.process(rec(1 * S, 1, RecordKind.Subscribed));
  for (const r of frames(11, 14, 1 * S)) n.process(r);
  // The connection drops: its streams' gaps open.
  n.process(rec(2 * S, 1, RecordKind.ConnClose, "reset"));
  const asOf = { segment: 1, offset: 10 };
  const captured = n.captureState(new BookImage(), asOf);
  const atCapture = captured.text();
  const gapAt = (text: string) =>
    (JSON.parse(text).streams as { name: string; gap: { reason: string } | null }[])
      .find((st) => st.name === "btcusdt@aggTrade")?.gap;
  assert.ok(gapAt(atCapture), "the gap is open at the capture");
  // Afterwards: a stop ends the open gaps, their reasons saying so, and forgets the connections.
  n.process(rec(5 * S, 0, RecordKind.Shutdown));
  assert.notEqual(n.exportState(), atCapture);
  assert.equal(captured.text(), atCapture);
  assert.deepEqual(JSON.parse(atCapture).asOf, asOf);
});

Deno.test("checkpoint parts: records journaled between the FlushMark and the checkpoint are replayed once", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "ckpt-parts-" });
  const ledger = await openLedger(":memory:");
  try {
    // The first run: books synced, trades flowing; a flush captures at its FlushMark, frames keep arriving while
    // the parts are journaled, then the process is killed before the next flush.
    const liveRows: string[] = [];
    const live = normalizer(liveRows);
    const journal = await JournalWriter.open(`${dataDir}/_journal`);
    const record = (r: JournalRecord) => {
      journal.append(r.localUs, r.market, r.conn, r.kind, r.symbol, r.text);
      live.process(r);
    };
    record(rec(1 * S, 1, RecordKind.ConnOpen, plan().connections[0]!.key));
    record(rec(1 * S, 1, RecordKind.Subscribed));
    for (const r of frames(11, 14, 1 * S)) record(r);
    for (const s of SYMBOLS) {
      const bids = Array.from({ length: 50 }, (_, j) => [String(49_000 - j), "2"]);
      const asks = Array.from({ length: 50 }, (_, j) => [String(51_000 + j), "3"]);
      record(rec(2 * S, 0, RecordKind.Snapshot, JSON.stringify({ lastUpdateId: 12, bids, asks }), s));
    }
    for (const r of frames(15, 40, 2 * S)) record(r);
    record(rec(3 * S, 0, RecordKind.FlushMark));
    const asOf = journal.lastRecord!;
    const committedRows = liveRows.length;
    const image = new BookImage();
    // Stringified only after the records that follow the FlushMark (as the flush does, out of its step).
    const captured = live.captureState(image, asOf);
    const during = frames(41, 45, 3 * S);
    const parts = Array.from(image.parts(asOf, 2_000), (p) => p.slice()); // each part reuses one buffer
    assert.ok(parts.length >= 2, "the books take several parts");
    for (const [i, part] of parts.entries()) {
      record(during[i]!);
      journal.append(3 * S, "spot", 0, RecordKind.CheckpointBooks, "", part);
    }
    for (const r of during.slice(parts.length)) record(r);
    journal.append(3 * S, "spot", 0, RecordKind.Checkpoint, "", captured.text());
    assert.ok(await ledger.commitCheckpoint(null, asOf, []));
    for (const r of frames(46, 50, 4 * S)) record(r);
    await journal.close();

    // The next run replays from the FlushMark: every row after it, none before it, the books as they were.
    const replayRows: string[] = [];
    const next = normalizer(replayRows);
    const report = await recover({
      dataDir,
      journalDir: `${dataDir}/_journal`,
      ledger,
      normalizers: new Map([["spot", next]]),
      log: () => {},
      record: () => {},
      nowUs: () => 5 * S,
    });
    assert.equal(report.crashed, true);
    assert.deepEqual(replayRows, liveRows.slice(committedRows));
    assert.ok(replayRows.some((r) => r.startsWith("trades BTCUSDT") && r.includes('"agg_trade_id":41')));
    for (const s of SYMBOLS) {
      assert.equal(next.bookOf(s)?.state, "synced", s);
      assert.deepEqual(next.bookOf(s)!.book.levels("bid"), live.bookOf(s)!.book.levels("bid"), s);
    }
  } finally {
    ledger.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
