/**
 * Recovery after repeated crashes, without processes or sockets: journals are written as three runs would have
 * written them, and `recover` replays them. The case that matters is a run killed during its own recovery,
 * before it committed: the next run must still date the loss from the last frame the first run received.
 */
import assert from "node:assert/strict";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import type { Market } from "../../lib/binance/types.ts";
import type { Ledger } from "../../lib/ledger/ledger.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import type { Logger } from "../../lib/log.ts";
import { type BackfillRequest, MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import type { RowSink } from "../../lib/pipeline/normalizer_contract.ts";
import { type JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";
import { recordsOf } from "./_records.ts";
import { recover } from "../../lib/pipeline/recovery.ts";
import { JournalWriter } from "../../lib/storage/journal.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";

const S = 1_000_000;
const plan = planStreams({
  market: "spot",
  wsUrl: "wss://example",
  symbols: ["BTCUSDT"],
  streams: ["aggTrade"],
});
const planKey = plan.connections[0]!.key;
const quiet: Logger = () => {};

function trade(id: number, ms: number): string {
  return JSON.stringify({
    stream: "btcusdt@aggTrade",
    data: {
      e: "aggTrade",
      E: ms,
      s: "BTCUSDT",
      a: id,
      p: "100.5",
      q: "2",
      f: id * 3,
      l: id * 3 + 2,
      T: ms,
      m: false,
    },
  });
}

const rec = recordsOf("spot");

/** One run of the collector: its normalizer, and the journal it appends to (a new segment, as a new process). */
class Run {
  readonly gaps: Row<"gaps">[] = [];
  readonly trades: Row<"trades">[] = [];
  readonly backfills: BackfillRequest[] = [];
  readonly normalizer: MarketNormalizer;

  private constructor(readonly journal: JournalWriter) {
    const sink: RowSink = {
      row: <N extends TableName>(_m: Market, table: N, _s: string, _p: number, row: Row<N>) => {
        if (table === "trades") this.trades.push({ ...row } as Row<"trades">);
      },
    };
    this.normalizer = new MarketNormalizer(plan, sink, {
      needSnapshot: () => {},
      gap: (_m, g) => this.gaps.push(g),
      needBackfill: (_m, r) => this.backfills.push(r),
    }, { topLevels: 10 });
  }

  static async start(journalDir: string): Promise<Run> {
    return new Run(await JournalWriter.open(journalDir));
  }

  /** Journals a record and hands it to the normalizer, as the collector does. */
  record(r: JournalRecord): void {
    this.journal.append(r.localUs, r.market, r.conn, r.kind, r.symbol, r.text);
    this.normalizer.process(r);
  }

  /** Connects (connection ids restart at 1 in every process) and receives trades `ids` one second apart. */
  live(fromUs: number, ids: number[]): void {
    this.record(rec(fromUs, 1, RecordKind.ConnOpen, planKey));
    this.record(rec(fromUs + 1000, 1, RecordKind.Subscribed));
    ids.forEach((id, i) => {
      const us = fromUs + (i + 1) * S;
      this.record(rec(us, 1, RecordKind.Frame, trade(id, us / 1000)));
    });
  }

  async recover(dataDir: string, ledger: Ledger, atUs: number) {
    return await recover({
      dataDir,
      journalDir: `${dataDir}/_journal`,
      ledger,
      normalizers: new Map([["spot", this.normalizer]]),
      log: quiet,
      record: (r) => this.record(r),
      nowUs: () => atUs,
    });
  }

  /** A flush: the state is journaled and its position committed (the rows before it are in Parquet). */
  async commit(ledger: Ledger, atUs: number): Promise<void> {
    this.journal.append(atUs, "spot", 0, RecordKind.Checkpoint, "", this.normalizer.exportState());
    assert.ok(await ledger.commitCheckpoint(await ledger.getCheckpoint(), this.journal.lastRecord!, []));
  }

  /** kill -9: what was appended reaches the file (the OS keeps it), nothing else happens. */
  async kill(): Promise<void> {
    await this.journal.close();
  }
}

/** A first run: trades 100 and 101 arrive at 2 s and 3 s, a flush at 3.5 s commits them, then it dies. */
async function firstRun(dataDir: string, ledger: Ledger): Promise<void> {
  const first = await Run.start(`${dataDir}/_journal`);
  first.live(1 * S, [100, 101]);
  await first.commit(ledger, 3.5 * S);
  await first.kill();
}

async function threeRuns(secondRunConnects: boolean) {
  const dataDir = await Deno.makeTempDir({ prefix: "recovery-" });
  const ledger = await openLedger(":memory:");
  try {
    await firstRun(dataDir, ledger);

    // The second run recovers, journals the state its recovery flush would commit, and dies before the commit:
    // the next replay starts at the first run's checkpoint and passes over this one.
    const second = await Run.start(`${dataDir}/_journal`);
    const r2 = await second.recover(dataDir, ledger, 5 * S);
    assert.equal(r2.crashed, true);
    second.record(rec(5.2 * S, 0, RecordKind.Checkpoint, second.normalizer.exportState()));
    if (secondRunConnects) second.live(6 * S, [103]); // a frame at 7 s
    await second.kill();

    const third = await Run.start(`${dataDir}/_journal`);
    const r3 = await third.recover(dataDir, ledger, 9 * S);
    assert.equal(r3.crashed, true);
    third.live(10 * S, [106]); // a frame at 11 s
    return { second, third };
  } finally {
    ledger.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("recovery: a run killed during its own recovery leaves one gap from the first run's last frame", async () => {
  const { third } = await threeRuns(false);
  // No frame in the second run: the hole runs from the first run's last frame (3 s) to the third run's (11 s).
  assert.deepEqual(third.backfills, [{ id: 1, kind: "trades", symbol: "BTCUSDT", fromId: 102, toId: 105 }]);
  const body = JSON.stringify(
    [102, 103, 104, 105].map((a) => ({
      a,
      p: "100.5",
      q: "2",
      f: a * 3,
      l: a * 3 + 2,
      T: 4000 + a,
      m: true,
    })),
  );
  third.record(rec(12 * S, 0, RecordKind.BackfillTrades, `102 105 #1\n${body}`, "BTCUSDT"));
  assert.equal(third.gaps.length, 1);
  const gap = third.gaps[0]!;
  assert.equal(gap.kind, "backfilled");
  assert.equal(gap.start_time, 3 * S, "the loss starts at the last frame received, not at a later record");
  assert.equal(gap.end_time, 11 * S);
  assert.deepEqual([gap.last_update_id, gap.resume_update_id], [101, 106]);
  // 100 and 101 were committed by the first run's flush: the replay starts after them.
  assert.deepEqual(third.trades.map((t) => [t.agg_trade_id, t.source]), [
    [106, "ws"],
    [102, "rest"],
    [103, "rest"],
    [104, "rest"],
    [105, "rest"],
  ]);
});

Deno.test("recovery: a second run that connected before dying is replayed as it happened", async () => {
  const { second, third } = await threeRuns(true);
  // The second run closed the first hole (102) live; the third replays that, then opens its own (104..105).
  assert.deepEqual(second.backfills, [{ id: 1, kind: "trades", symbol: "BTCUSDT", fromId: 102, toId: 102 }]);
  assert.deepEqual(third.backfills, [
    { id: 1, kind: "trades", symbol: "BTCUSDT", fromId: 102, toId: 102 },
    { id: 2, kind: "trades", symbol: "BTCUSDT", fromId: 104, toId: 105 },
  ]);
  assert.deepEqual(third.trades.map((t) => t.agg_trade_id), [103, 106]);
  assert.deepEqual(third.normalizer.pendingBackfills(), third.backfills);
});

Deno.test("recovery: a journal reopened after a write failure replays as a gap from its last frame", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "recovery-" });
  const ledger = await openLedger(":memory:");
  try {
    await firstRun(dataDir, ledger); // then the disk failed: nothing more reached this segment
    // The same process, same connection, reopened its journal at 6 s (trades 102..104 arrived meanwhile and
    // went to the live output only), then died before its next checkpoint.
    const reopened = await JournalWriter.open(`${dataDir}/_journal`);
    reopened.append(6 * S, "spot", 0, RecordKind.Crashed, "", "journal reopened");
    reopened.append(7 * S, "spot", 1, RecordKind.Frame, "", trade(105, 7000));
    await reopened.close();

    const next = await Run.start(`${dataDir}/_journal`);
    await next.recover(dataDir, ledger, 9 * S);
    assert.deepEqual(next.backfills, [{ id: 1, kind: "trades", symbol: "BTCUSDT", fromId: 102, toId: 104 }]);
    assert.deepEqual(next.trades.map((t) => t.agg_trade_id), [105]);
    const body = JSON.stringify(
      [102, 103, 104].map((a) => ({ a, p: "1", q: "1", f: a, l: a, T: 4000, m: true })),
    );
    next.record(rec(10 * S, 0, RecordKind.BackfillTrades, `102 104 #1\n${body}`, "BTCUSDT"));
    // A disconnect gap from the last journaled frame (not merely a hole in the ids): every stream gets one.
    assert.deepEqual(
      next.gaps.map((g) => [g.kind, g.start_time, g.end_time, g.reason.split(";")[0]]),
      [["backfilled", 3 * S, 7 * S, "journal reopened"]],
    );
    await next.kill();
  } finally {
    ledger.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("recovery: after a clean stop, the time until the next run delivers is a gap too", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "recovery-" });
  const ledger = await openLedger(":memory:");
  try {
    const first = await Run.start(`${dataDir}/_journal`);
    first.live(1 * S, [100, 101]); // the last frame at 3 s
    first.record(rec(4 * S, 0, RecordKind.Shutdown));
    await first.commit(ledger, 4.1 * S);
    await first.kill();

    const next = await Run.start(`${dataDir}/_journal`);
    const report = await next.recover(dataDir, ledger, 20 * S);
    assert.equal(report.crashed, false);
    next.live(21 * S, [105]); // at 22 s
    assert.deepEqual(next.backfills, [{ id: 1, kind: "trades", symbol: "BTCUSDT", fromId: 102, toId: 104 }]);
    const body = JSON.stringify([102, 103].map((a) => ({ a, p: "1", q: "1", f: a, l: a, T: 5000, m: true })));
    next.record(rec(23 * S, 0, RecordKind.BackfillTrades, `102 104 #1\n${body}`, "BTCUSDT"));
    next.record(rec(24 * S, 0, RecordKind.BackfillTrades, `104 104 #1\n[]`, "BTCUSDT"));
    assert.deepEqual(
      next.gaps.map((g) => [g.kind, g.start_time, g.end_time, g.last_update_id, g.resume_update_id]),
      [["disconnect", 3 * S, 22 * S, 103, 105]],
      "REST returned 102..103 only: 104 stays inside the gap",
    );
    assert.match(next.gaps[0]!.reason, /stopped \(clean shutdown\)/);
    await next.kill();
  } finally {
    ledger.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
