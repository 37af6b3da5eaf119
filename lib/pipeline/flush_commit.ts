/**
 * The flush transaction: "the journal up to here is in these files". In one synchronous step each market's
 * normalizer gets a FlushMark record (holes still waiting for REST get their gap rows). The records after
 * them are held (journaled, waiting in the pacer) while each market's state is captured as of its FlushMark
 * (books copied, see book_image.ts) and the table buffers are taken, a slice per event-loop turn: the taken
 * rows are exactly those made from the records before the FlushMarks. The state is then journaled between
 * frames (the books a part per event-loop turn, then a Checkpoint record naming its FlushMark), the buffers
 * are written as Parquet files, and once the journal is fsynced one atomic ledger commit records the first
 * FlushMark's position together with the files (and the gaps the rows hold). A crash before the commit
 * replays from the previous checkpoint, and the files of this flush are orphans that recovery removes; a
 * failure without a crash leaves everything for the next flush.
 * @module
 */
import type { Market } from "../binance/types.ts";
import type { Clock } from "../clock.ts";
import { GapNotFoundError } from "../ledger/gaps.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Checkpoint } from "../ledger/records.ts";
import type { Logger } from "../log.ts";
import { type LoopLagMonitor, runInSlices } from "../loop_lag.ts";
import type { JournalPosition } from "../storage/journal.ts";
import type { Manifest, ManifestEntry } from "../storage/manifest.ts";
import type { Row } from "../storage/tables.ts";
import { BookImage } from "./book_image.ts";
import { type CoveredMarket, recordFlushCoverage } from "./flush_coverage.ts";
import type { JournalKeeper } from "./journal_keeper.ts";
import type { MarketNormalizer } from "./normalizer.ts";
import { type JournalRecord, RecordKind } from "./records.ts";
import { type Capture, journalCaptures } from "./state_journal.ts";
import { FlushError, type FlushResult, type Slot, type TableStore } from "./table_store.ts";

/** A market as the flush sees it: coverage is kept for every stream recorded, with or without messages. */
export interface FlushMarket extends CoveredMarket {
  normalizer: MarketNormalizer;
}

/** What the flush needs. */
export interface FlushDeps {
  markets: readonly FlushMarket[];
  wal: JournalKeeper;
  store: TableStore;
  ledger: Ledger;
  manifest: Manifest;
  dataDir: string;
  /** Keep committed journal segments as gzip archives under `{dataDir}/_raw/`. */
  keepRaw: boolean;
  /** Journals a record and hands it to its normalizer (normalized when this returns). */
  record(rec: JournalRecord): void;
  /** Resolves once every record journaled so far can be normalized at once (no backlog). */
  settled?(): Promise<void>;
  /**
   * Keeps records from the normalizers (journaled, they wait) until the returned function is called (it returns
   * how many waited), so that the state and the buffered rows can be taken over several turns; without it they
   * are taken in one.
   */
  hold?(): () => number;
  /**
   * Cuts the records' normalizing per turn while the flush runs (until the returned function is called): the
   * flush's own steps (a part of the state journaled per turn, the commits) share the turns with it.
   */
  share?(): () => void;
  /** The most a turn spends copying the state and taking the buffers while held. @default 4 */
  captureSliceMs?: number;
  log: Logger;
  clock: Clock;
  /**
   * Keeps the event loop's lag during flushes beside the feed apart (each is a span); the recovery flush runs
   * before the sockets open and the shutdown's after they closed, when a stall delays no frame.
   */
  lag?: Pick<LoopLagMonitor, "openSpan" | "closeSpan" | "spanMax">;
  onFailed?(error: string): void;
}

/**
 * `checksums.json` is rewritten whole, so after months of files a rewrite per flush would cost more disk writes
 * than the data: it is mirrored at most this often, and at recovery and shutdown (the ledger is always current).
 */
const MIRROR_INTERVAL_MS = 5 * 60_000;

/**
 * The most a turn of the event loop spends copying the state and taking the buffers while the normalizers are
 * held: a whole market's took 17–27 ms in one block, frames waiting all that time.
 */
const CAPTURE_SLICE_MS = 4;

/** Flush results kept for status and the flush report. */
const KEPT_RESULTS = 100;

/** Runs flushes one at a time and keeps what they leave for the next one. */
export class FlushCommitter {
  /** Results of completed flushes (most recent last, bounded). */
  readonly flushes: FlushResult[] = [];
  /** Flushes that succeeded, and that failed. */
  count = 0;
  failures = 0;
  /** Wall-clock time (ms) of the last flush start. */
  lastStartMs: number;
  #running: Promise<FlushResult | null> | null = null;
  #checkpoint: Checkpoint | null = null;
  #lastMirrorMs = -Infinity;
  /** Gap rows written since the last commit, for the ledger. */
  #gaps: { market: Market; gap: Row<"gaps"> }[] = [];
  /** Gap rows of earlier commits recovered in full since the last commit. */
  #recoveries: { market: Market; gap: Row<"gaps">; atUs: number }[] = [];
  /** Files written by flushes whose commit has not succeeded yet. */
  #uncommitted: ManifestEntry[] = [];
  /** Each market's books copied at the checkpoint (kept: the level array is reused). */
  #images = new Map<Market, BookImage>();
  /** Start of the span the next flush's coverage covers. */
  #spanStartUs: number;

  constructor(private readonly d: FlushDeps, spanStartUs: number) {
    this.#spanStartUs = spanStartUs;
    this.lastStartMs = d.clock.nowMs();
  }

  /** Reads the committed checkpoint (before recovery) and where the next coverage span starts. */
  async init(spanStartUs?: number): Promise<void> {
    this.#checkpoint = await this.d.ledger.getCheckpoint();
    if (spanStartUs !== undefined) this.#spanStartUs = spanStartUs;
  }

  /** A gap row was written: the commit that holds it records it in the ledger. */
  gapWritten(market: Market, gap: Row<"gaps">): void {
    this.#gaps.push({ market, gap });
  }

  /** A gap row of an earlier commit was recovered in full: the next commit marks it so. */
  gapRecovered(market: Market, gap: Row<"gaps">): void {
    this.#recoveries.push({ market, gap, atUs: this.d.clock.nowUs() });
  }

  /** The flush in progress, if any. */
  get running(): Promise<FlushResult | null> | null {
    return this.#running;
  }

  /** Flushes now (a concurrent call gets the running flush). Null when nothing was committed. */
  flush(reason: string): Promise<FlushResult | null> {
    if (this.#running) return this.#running;
    // The recovery flush runs before the sockets open and the shutdown's after they closed.
    const besideFeed = reason !== "recovery" && reason !== "shutdown";
    const lag = besideFeed ? this.d.lag : undefined;
    lag?.openSpan();
    const unshare = besideFeed ? this.d.share?.() : undefined;
    this.#running = this.#flush(reason, lag).finally(() => {
      this.#running = null;
      unshare?.();
      lag?.closeSpan();
    });
    return this.#running;
  }

  /** Writes `checksums.json` from the in-memory manifest, which follows the ledger's files. */
  async mirrorManifest(): Promise<void> {
    this.#lastMirrorMs = this.d.clock.nowMs();
    await this.d.manifest.save();
  }

  async #flush(reason: string, lag: FlushDeps["lag"]): Promise<FlushResult | null> {
    const { store, ledger, log, wal, clock } = this.d;
    this.lastStartMs = clock.nowMs();
    // A burst still waiting to be normalized is worked off at its own pace first, not while records are held.
    await this.d.settled?.();
    // Without the journal there is no checkpoint: rows stay buffered until it is reopened.
    if (wal.down) return null;
    const atUs = clock.nowUs();
    // Each market's state is captured as of its FlushMark and the taken buffers hold exactly the rows of the
    // records before, so a recovery that restores these states and replays what follows rebuilds every row not
    // in this flush. The FlushMarks are journaled in one synchronous step; then the records after them wait in
    // the pacer (journaled) while the state is copied (only numbers: it is journaled afterwards) and the buffers
    // are taken, a slice per turn so that frames go on being received.
    const captureStart = performance.now();
    const writer = wal.writer;
    const marks: { m: FlushMarket; asOf: JournalPosition }[] = [];
    for (const m of this.d.markets) {
      this.d.record({
        localUs: atUs,
        market: m.market,
        conn: 0,
        kind: RecordKind.FlushMark,
        symbol: "",
        text: "",
      });
      const asOf = writer.lastRecord;
      if (wal.down || asOf === null) return null;
      marks.push({ m, asOf });
    }
    // Gap rows of the records before the FlushMarks (an unstarted pacer normalizes what waits on release).
    const gaps = this.#gaps.splice(0);
    const recoveries = this.#recoveries.splice(0);
    const spanStartUs = this.#spanStartUs;
    this.#spanStartUs = atUs;
    const release = this.d.hold?.();
    const sliceMs = release ? this.d.captureSliceMs ?? CAPTURE_SLICE_MS : Infinity;
    const captures: Capture[] = [];
    let batch: Slot[];
    let held = 0;
    try {
      for (const { m, asOf } of marks) {
        const image = this.#image(m.market);
        const state = await runInSlices(m.normalizer.captureSteps(image, asOf), sliceMs);
        captures.push({ market: m.market, asOf, state, image });
      }
      batch = await runInSlices(store.takeSteps(), sliceMs);
    } finally {
      held = release?.() ?? 0;
    }
    const captureMs = performance.now() - captureStart;
    // Replay starts at the first FlushMark.
    const position = captures[0]!.asOf;
    const putBack = () => {
      this.#gaps.unshift(...gaps);
      this.#recoveries.unshift(...recoveries);
      this.#spanStartUs = spanStartUs;
    };
    // The state goes to the journal between frames, a part of the books per turn, then the checkpoint record;
    // it must all be durable before the ledger points at it.
    const stateBytes = await journalCaptures(wal, writer, captures, atUs);
    if (stateBytes === null || !(await wal.sync())) {
      store.putBack(batch);
      putBack();
      return null;
    }
    // Message counts are keyed by their own hour, so taking them after the await only moves them between
    // flushes of the same coverage.
    const counts = this.d.markets.map((m) => ({ m, counts: m.normalizer.takeCounts() }));
    let committed = false;
    try {
      let result: FlushResult;
      try {
        result = await store.write(batch);
      } catch (err) {
        if (err instanceof FlushError) this.#uncommitted.push(...err.written);
        throw err;
      }
      const files = [...this.#uncommitted, ...result.files];
      // Before the checkpoint: a crash in between replays these gaps, and adding a gap again is a no-op.
      for (const g of gaps) await ledger.addGap(g.market, g.gap);
      for (const r of recoveries) await this.#markRecovered(r);
      if (!(await ledger.commitCheckpoint(this.#checkpoint, position, files))) {
        throw new Error("the ledger's checkpoint changed under this collector (is another one running?)");
      }
      committed = true;
      this.#uncommitted = [];
      this.#checkpoint = await ledger.getCheckpoint();
      for (const e of files) this.d.manifest.add(e);
      if (reason === "recovery" || clock.nowMs() - this.#lastMirrorMs >= MIRROR_INTERVAL_MS) {
        await this.mirrorManifest();
      }
      for (const c of counts) await recordFlushCoverage(ledger, c.m, c.counts, spanStartUs, atUs);
      await ledger.addFlush({
        atUs,
        files: files.length,
        rows: result.rows,
        bytes: result.bytes,
        ms: result.ms,
        reason,
      });
      this.flushes.push(result);
      this.count++;
      if (this.flushes.length > KEPT_RESULTS) this.flushes.shift();
      log("info", "flushed", {
        reason,
        files: files.length,
        rows: result.rows,
        ms: Math.round(result.ms),
        captureMs: Math.round(captureMs),
        held,
        stateKb: Math.round(stateBytes / 1024),
        ...(lag ? { lagMaxMs: Math.round(lag.spanMax * 10) / 10 } : {}),
      });
      await wal.prune(position.segment, this.d.keepRaw ? `${this.d.dataDir}/_raw` : null);
      return result;
    } catch (err) {
      // The ledger still points at the previous checkpoint: a crash now replays from there, and files written
      // by this flush are orphans that recovery removes. Without a crash the next flush commits them.
      this.failures++;
      if (!committed) {
        putBack();
        for (const c of counts) c.m.normalizer.putBackCounts(c.counts);
      }
      this.d.onFailed?.(String(err));
      log("error", "flush failed", { reason, error: String(err) });
      return null;
    }
  }

  /** The reused book image of a market. */
  #image(market: Market): BookImage {
    let image = this.#images.get(market);
    if (!image) this.#images.set(market, image = new BookImage());
    return image;
  }

  /** Marks a gap row of an earlier commit recovered (its `backfilled` twin is in this flush). */
  async #markRecovered(r: { market: Market; gap: Row<"gaps">; atUs: number }): Promise<void> {
    const { symbol, stream, start_time, kind } = r.gap;
    try {
      await this.d.ledger.markRecovered(
        { market: r.market, symbol, stream, startUs: start_time, kind },
        r.atUs,
        "backfilled from REST later",
      );
    } catch (err) {
      // A gap the ledger never recorded (its run crashed before committing it) has nothing to mark.
      if (!(err instanceof GapNotFoundError)) throw err;
    }
  }
}
