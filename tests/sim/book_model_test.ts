import assert from "node:assert/strict";
import { BookModel, BookSide } from "../../lib/sim/book_model.ts";

Deno.test("BookSide keeps bids best-first (descending) and removes on zero", () => {
  const bids = new BookSide("bid");
  for (const [t, q] of [[100, 1], [105, 2], [101, 3], [103, 4]]) bids.set(t!, q!);
  assert.deepEqual(bids.topInto(10, []), [105, 2, 103, 4, 101, 3, 100, 1]);
  bids.set(103, 0);
  bids.set(999, 0);
  bids.set(101, 7);
  assert.deepEqual(bids.topInto(2, []), [105, 2, 101, 7]);
  assert.equal(bids.size, 3);
  assert.equal(bids.worstTick(), 100);
  assert.equal(bids.get(103), 0);
});

Deno.test("BookSide keeps asks ascending", () => {
  const asks = new BookSide("ask");
  for (const t of [110, 107, 109, 108]) asks.set(t, 1);
  assert.equal(asks.bestTick(), 107);
  assert.equal(asks.tickAt(2), 109);
  assert.equal(asks.worstTick(), 110);
  for (const t of [110, 107, 109, 108]) asks.set(t, 0);
  assert.equal(asks.bestTick(), undefined);
  assert.equal(asks.size, 0);
});

Deno.test("BookModel.apply sets absolute quantities from flat pairs", () => {
  const book = new BookModel();
  book.apply("bid", [10, 5, 9, 3]);
  book.apply("ask", [11, 2]);
  book.apply("bid", [10, 0, 8, 1]);
  assert.deepEqual(book.top(5), { bids: [9, 3, 8, 1], asks: [11, 2] });
});
