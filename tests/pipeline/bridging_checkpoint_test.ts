/**
 * A futures book synced from a snapshot ahead of every buffered diff waits for the diff that bridges the snapshot
 * (`pu < lastUpdateId <= u`: the stream rule `pu == lastUpdateId` would call it a gap). A checkpoint taken in
 * between must keep that: restored, the book applies the bridging diff, with no gap row, exactly as the live run
 * did, whether its levels went into the state or into the checkpoint's book parts.
 */
import assert from "node:assert/strict";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import { BookImage, BookParts } from "../../lib/pipeline/book_image.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import { RecordKind } from "../../lib/pipeline/records.ts";
import { recordsOf, textRows } from "./_records.ts";

const S = 1_000_000;
const plan = () =>
  planStreams({ market: "usdm", wsUrl: "wss://x", symbols: ["BTCUSDT"], streams: ["depth@100ms"] });
const rec = recordsOf("usdm");

function normalizer(rows: string[]): MarketNormalizer {
  return new MarketNormalizer(plan(), textRows(rows), { needSnapshot: () => {} }, { topLevels: 5 });
}

/** A futures diff: ids skip (U = pu + 5), as on real streams. */
const diff = (pu: number, u: number, price: number) =>
  rec(
    u * 1000,
    1,
    RecordKind.Frame,
    JSON.stringify({
      stream: "btcusdt@depth@100ms",
      data: {
        e: "depthUpdate",
        E: u,
        T: u,
        s: "BTCUSDT",
        U: pu + 5,
        u,
        pu,
        b: [[String(price), "1"]],
        a: [],
      },
    }),
  );

for (const viaParts of [false, true]) {
  Deno.test(`a book awaiting its bridging diff keeps waiting across a checkpoint (${viaParts ? "book parts" : "state"})`, () => {
    const liveRows: string[] = [];
    const live = normalizer(liveRows);
    const opening = [
      rec(1 * S, 1, RecordKind.ConnOpen, plan().connections[0]!.key),
      rec(1 * S, 1, RecordKind.Subscribed),
      diff(100, 110, 50_000),
      diff(110, 120, 50_001),
      // The snapshot at 125 holds both diffs and more: the book syncs now, and the next diff (pu 120 < 125 <=
      // 130) must bridge it.
      rec(
        2 * S,
        0,
        RecordKind.Snapshot,
        JSON.stringify({ lastUpdateId: 125, bids: [["49000", "2"]], asks: [["51000", "3"]] }),
        "BTCUSDT",
      ),
    ];
    for (const r of opening) live.process(r);
    assert.equal(live.bookOf("BTCUSDT")?.state, "synced");
    assert.equal(live.bookOf("BTCUSDT")?.awaitingBridge, true);

    const asOf = { segment: 1, offset: 0 };
    const image = new BookImage();
    const state = viaParts ? live.captureState(image, asOf).text() : live.exportState();
    const parts = new BookParts(asOf);
    for (const p of image.parts(asOf)) assert.ok(parts.add(new TextDecoder().decode(p)));
    const before = liveRows.length;
    const after = [diff(120, 130, 50_002), diff(130, 140, 50_003)];
    for (const r of after) live.process(r);

    const replayRows: string[] = [];
    const replay = normalizer(replayRows);
    replay.restoreState(state, viaParts ? parts.books : undefined);
    assert.equal(replay.bookOf("BTCUSDT")?.awaitingBridge, true, "restored still waiting for the bridge");
    for (const r of after) replay.process(r);
    assert.deepEqual(replayRows, liveRows.slice(before), "the replay writes what the live run wrote");
    assert.ok(!replayRows.some((r) => r.startsWith("gaps")), "no gap");
    assert.equal(replay.bookOf("BTCUSDT")?.book.lastUpdateId, 140);
  });
}
