/**
 * Hands journaled records to the normalizers in their order, at most `budgetMs` of normalizing between two
 * ticks of its timer. A socket that has buffered a burst (a backlog after a network stall, a flood of first
 * frames) delivers it in one event-loop task, one frame after another; normalized as they come, thousands of
 * frames kept every other timer and socket waiting 100 ms and more. Past the budget the records wait here
 * (already journaled and stamped on arrival) and the timer normalizes them a budget at a time, so frames go on
 * being received and stamped between.
 *
 * Whoever needs the normalizers up to date (a flush's checkpoint, the stop) calls {@link RecordPacer.drain}.
 * A flush {@link RecordPacer.hold}s the records after its checkpoint while it copies the state, a slice per
 * turn: the normalizers' state and buffered rows stay as of the checkpoint, and frames go on being received.
 * While it runs, it {@link RecordPacer.share}s the turns: the pacer normalizes less per turn, leaving room for the
 * flush's own steps.
 * @module
 */
import type { JournalRecord } from "./records.ts";

/** Normalizes records in order, a bounded time per turn of the event loop (see the module docs). */
export class RecordPacer {
  #queue: JournalRecord[] = [];
  #head = 0;
  /**
   * Wall time (`Date.now()`, the cheaper clock) of the first record since the last tick. The ticks come every
   * `tickMs` while the loop is free, so a record `budgetMs` after it means the loop has been busy since.
   */
  #turnStartMs = NaN;
  #timer: ReturnType<typeof setInterval> | null = null;
  /** Callers of {@link idle} waiting for the queue to empty. */
  #idle: (() => void)[] = [];
  #held = false;
  #budgetMs: number;

  /**
   * @param handle normalizes one record (never throws).
   * @param budgetMs how long records are normalized as they come after a tick (the loop being busy all that
   *   time: the ticks stopped) before they wait. 6 ms, not 10: the lag timer waits out a whole turn, and a
   *   whole market's once-a-second bursts (every mark price at once) made turns of 9–10 ms, during flushes
   *   too (in two 6-minute runs the lag's p99 during flushes was 10 ms at 10 and 7.5 at 6; firehose CPU the
   *   same).
   * @param tickMs how often the waiting records get their turn (and the budget starts again).
   */
  constructor(
    private readonly handle: (rec: JournalRecord) => void,
    budgetMs = 6,
    private readonly tickMs = 5,
  ) {
    this.#budgetMs = budgetMs;
  }

  /** Starts the ticks; before it (and after {@link stop}) every record is normalized at once. */
  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), this.tickMs);
  }

  /** Stops the ticks after normalizing what waits. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.drain();
  }

  /** Records waiting to be normalized. */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Resolves once no record waits (at once when none does), or after `timeoutMs` (a backlog that does not
   * shrink must not hold a flush back): a flush takes its checkpoint after a burst is normalized at the
   * pacer's rate, instead of normalizing it while it captures the state.
   */
  idle(timeoutMs = 1_000): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#idle.push(done);
    });
  }

  /**
   * Keeps every record from the normalizers until {@link release} (they wait here, journaled), so that their
   * state can be read over several turns of the event loop as of one record.
   */
  hold(): void {
    this.#held = true;
  }

  /**
   * Normalizes at most `budgetMs` per turn until the returned function is called: a flush that journals its
   * state a part per turn shares the turns with the pacer, and the lag timer waits out both.
   */
  share(budgetMs: number): () => void {
    const before = this.#budgetMs;
    this.#budgetMs = Math.min(before, budgetMs);
    return () => void (this.#budgetMs = before);
  }

  /** Ends a {@link hold}: what waits is normalized at the pacer's rate from the next tick (at once if unstarted). */
  release(): void {
    this.#held = false;
    if (this.#timer === null) this.drain();
  }

  /** Normalizes `rec` now, or after the records waiting before it. */
  push(rec: JournalRecord): void {
    if (this.#held) {
      this.#queue.push(rec);
      return;
    }
    if (this.#timer !== null) {
      const now = Date.now();
      if (Number.isNaN(this.#turnStartMs)) this.#turnStartMs = now;
      if (this.waiting > 0 || now - this.#turnStartMs >= this.#budgetMs) {
        this.#queue.push(rec);
        return;
      }
    }
    this.handle(rec);
  }

  /**
   * Normalizes every waiting record now.
   *
   * @throws {Error} while held: the holder reads the state as of the records before.
   */
  drain(): void {
    if (this.#held) throw new Error("Cannot drain the record pacer while a flush holds it");
    while (this.#head < this.#queue.length) this.handle(this.#queue[this.#head++]!);
    this.#queue = [];
    this.#head = 0;
    this.#settled();
  }

  #settled(): void {
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  #tick(): void {
    this.#turnStartMs = NaN;
    if (this.waiting === 0 || this.#held) return;
    const t0 = this.#turnStartMs = Date.now();
    do {
      this.handle(this.#queue[this.#head++]!);
    } while (this.#head < this.#queue.length && Date.now() - t0 < this.#budgetMs);
    if (this.waiting === 0 || this.#head > 4096) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.waiting === 0) this.#settled();
  }
}
