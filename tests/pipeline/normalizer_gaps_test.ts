/**
 * Where gaps start and end for streams that are silent most of the time: a liquidation stream's disconnect gap
 * ends when the new connection is subscribed, not at the next liquidation (which may come hours later).
 */
import assert from "node:assert/strict";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import { RecordKind } from "../../lib/pipeline/records.ts";
import { recordsOf } from "./_records.ts";
import type { Row } from "../../lib/storage/tables.ts";

const S = 1_000_000;

function liquidation(ms: number): string {
  return JSON.stringify({
    stream: "btcusdt@forceOrder",
    data: {
      e: "forceOrder",
      E: ms,
      o: {
        s: "BTCUSDT",
        S: "SELL",
        o: "LIMIT",
        f: "IOC",
        q: "0.014",
        p: "9910",
        ap: "9910",
        X: "FILLED",
        l: "0.014",
        z: "0.014",
        T: ms,
      },
    },
  });
}

Deno.test("normalizer: a liquidation stream's disconnect gap ends at the new subscription", () => {
  const plan = planStreams({
    market: "usdm",
    wsUrl: "wss://example",
    symbols: ["BTCUSDT"],
    streams: ["forceOrder"],
  });
  const key = plan.connections[0]!.key;
  const gaps: Row<"gaps">[] = [];
  const rows: string[] = [];
  const n = new MarketNormalizer(plan, { row: (_m, table) => rows.push(table) }, {
    needSnapshot: () => {},
    gap: (_m, g) => gaps.push(g),
  }, { topLevels: 10 });
  const rec = recordsOf("usdm");
  n.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
  n.process(rec(1.1 * S, 1, RecordKind.Subscribed));
  n.process(rec(2 * S, 1, RecordKind.Frame, liquidation(2000)));
  n.process(rec(3 * S, 1, RecordKind.ConnClose, "server closed"));
  assert.equal(gaps.length, 0, "open while no connection carries the stream");
  n.process(rec(5 * S, 2, RecordKind.ConnOpen, key));
  assert.equal(gaps.length, 0, "connected is not yet subscribed");
  n.process(rec(5.2 * S, 2, RecordKind.Subscribed));
  assert.deepEqual(gaps.map((g) => [g.kind, g.start_time, g.end_time]), [["disconnect", 2 * S, 5.2 * S]]);
  n.process(rec(3600 * S, 2, RecordKind.Frame, liquidation(3_600_000)));
  assert.equal(gaps.length, 1, "the next liquidation, an hour later, opens nothing");
  assert.deepEqual(rows, ["liquidations", "gaps", "liquidations"]);
});

Deno.test("normalizer: a liquidation stream that was silent all run still gets the restart gap after a clean stop", () => {
  const plan = planStreams({
    market: "usdm",
    wsUrl: "wss://example",
    symbols: ["BTCUSDT"],
    streams: ["forceOrder", "markPrice@1s"],
  });
  const key = plan.connections.find((c) => c.streams.some((s) => s.kind === "forceOrder"))!.key;
  const mark = (ms: number) =>
    JSON.stringify({
      stream: "btcusdt@markPrice@1s",
      data: { e: "markPriceUpdate", E: ms, s: "BTCUSDT", p: "1", i: "1", P: "1", r: "0", T: ms + 1000 },
    });
  const rec = recordsOf("usdm");
  const first = new MarketNormalizer(plan, { row: () => {} }, { needSnapshot: () => {} }, { topLevels: 5 });
  first.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
  first.process(rec(1.1 * S, 1, RecordKind.Subscribed));
  first.process(rec(2 * S, 1, RecordKind.Frame, mark(2000)));
  first.process(rec(3 * S, 0, RecordKind.Shutdown));
  const gaps: Row<"gaps">[] = [];
  const next = new MarketNormalizer(plan, { row: () => {} }, {
    needSnapshot: () => {},
    gap: (_m, g) => gaps.push(g),
  }, { topLevels: 5 });
  next.restoreState(first.exportState());
  next.process(
    rec(10 * S, 0, RecordKind.Crashed, "the collector was stopped (clean shutdown) until this start"),
  );
  next.process(rec(11 * S, 1, RecordKind.ConnOpen, key));
  next.process(rec(11.2 * S, 1, RecordKind.Subscribed));
  assert.deepEqual(
    gaps.filter((g) => g.stream === "forceOrder").map((g) => [g.kind, g.start_time, g.end_time]),
    [["disconnect", 2 * S, 11.2 * S]],
    "from the connection's last frame (a mark price) to the new subscription",
  );
});
