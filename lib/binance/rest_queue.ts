/**
 * The order in which the REST client sends its waiting calls: the most urgent priority first, first come first
 * served within a priority. Pure bookkeeping: the queue never sends, sleeps or settles a call; the scheduler
 * (rest_scheduler.ts) does, and asks the queue which call is next.
 *
 * @module
 */

/** Queue order: snapshots (book resyncs) first, then everything else, then history backfill. */
export type Priority = "snapshot" | "normal" | "backfill";

const RANK: Readonly<Record<Priority, number>> = { snapshot: 0, normal: 1, backfill: 2 };

/** What the queue reads of a call. */
export interface Queued {
  readonly priority: Priority;
  /** Arrival order; a call put back after a block or backoff keeps its number, and so its place. */
  readonly seq: number;
  /** When (ms since the epoch) the caller stops waiting. */
  readonly deadline: number;
}

/**
 * Calls waiting to be sent.
 *
 * @example
 * ```ts
 * const q = new CallQueue();
 * q.push({ priority: "backfill", seq: 0, deadline: 0 });
 * q.push({ priority: "snapshot", seq: 1, deadline: 0 });
 * q.next()?.seq; // 1: a snapshot overtakes an older backfill
 * ```
 */
export class CallQueue<T extends Queued = Queued> {
  #calls: T[] = [];

  get length(): number {
    return this.#calls.length;
  }

  push(call: T): void {
    this.#calls.push(call);
  }

  /** The most urgent call, left in the queue (it may still have to wait for a budget); undefined when empty. */
  next(): T | undefined {
    let best: T | undefined;
    for (const c of this.#calls) if (best === undefined || before(c, best)) best = c;
    return best;
  }

  remove(call: T): void {
    this.#calls.splice(this.#calls.indexOf(call), 1);
  }

  /** Takes out the calls whose deadline is before `until` (they cannot wait that long), in queue order. */
  removeDueBefore(until: number): T[] {
    const kept: T[] = [];
    const due: T[] = [];
    for (const c of this.#calls) (c.deadline < until ? due : kept).push(c);
    this.#calls = kept;
    return due;
  }

  /** Takes out every call, in queue order. */
  drain(): T[] {
    return this.#calls.splice(0);
  }
}

function before(a: Queued, b: Queued): boolean {
  return RANK[a.priority] < RANK[b.priority] || (a.priority === b.priority && a.seq < b.seq);
}
