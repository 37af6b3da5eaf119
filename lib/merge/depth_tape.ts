/**
 * The merged depth tape of one market: depth_updates rows of several recordings as one tape per symbol that
 * replays into the exchange's book (README: "Replaying the rows in order (a snapshot block resets the book)
 * reproduces the collector's book exactly").
 *
 * Rows form units: a diff event (its rows share `final_update_id`) or a snapshot block (`is_snapshot`, one REST
 * snapshot, `last_update_id` in both id columns). A diff event is the union of its copies' rows by (side, price),
 * the earliest arrival's rows first; of the snapshot blocks with one id one is kept whole (the deepest, then the
 * earliest). Units are written in update id order, a snapshot block after the diff ending at its id (unless that
 * diff, a futures one kept for `u >= lastUpdateId`, does not apply to the tape's book so far: then the snapshot
 * goes first, as its recording had it), and only past the tape's last id: the tape so far already holds the book
 * at that id, so an older unit (a copy that arrived in the next hour, or a block an earlier snapshot made
 * redundant) is dropped rather than moving the book back. Replayed in order, every diff then meets the book of
 * its own id, because the recording it came from had applied it to a book built from units that are all on the
 * tape.
 *
 * Diffs are also checked for chaining across snapshot blocks (spot `U <= last u + 1`, futures `pu == last u`):
 * where they do not, every recording missed the updates between, and the hole is reported with the ids and
 * arrival times that bound it.
 * @module
 */

import type { Market } from "../binance/markets.ts";
import { diffContinues, diffFollowsSnapshot } from "../book/sequencer.ts";
import type { PlainRow } from "../storage/read_rows.ts";
import { type AnyRow, nearHourEnd, newCounts, type SymbolMerger, type Tagged } from "./dedup.ts";

type DepthRow = PlainRow<"depth_updates">;

/** Updates every recording missed: after diff `lastId` (arrived `fromUs`) up to the diff arriving at `toUs`. */
export interface DepthHole {
  symbol: string;
  lastId: number;
  /** The snapshot the tape resumed from, if one came between. */
  resumeId: number | null;
  fromUs: number;
  toUs: number;
}

interface Unit {
  id: number;
  snapshot: boolean;
  localUs: number;
  rec: number;
  rows: DepthRow[];
}

interface SymbolState {
  /** Update id of the last unit written. */
  lastId: number;
  /** The last diff written (ids chain from diff to diff), and the snapshot written since, if any. */
  lastDiff: { id: number; localUs: number } | null;
  snapshotSince: number | null;
}

/** Groups rows into units: consecutive rows of one recording with the same id, kind and arrival. */
function unitsOf(rows: readonly Tagged<DepthRow>[]): Unit[] {
  const units: Unit[] = [];
  let cur: Unit | null = null;
  for (const { row, rec } of rows) {
    const id = row.final_update_id;
    if (
      cur === null || cur.rec !== rec || cur.id !== id || cur.snapshot !== row.is_snapshot ||
      cur.localUs !== row.local_time
    ) {
      units.push(cur = { id, snapshot: row.is_snapshot, localUs: row.local_time, rec, rows: [] });
    }
    cur.rows.push(row);
  }
  return units;
}

const earlier = (a: Unit, b: Unit) => a.localUs - b.localUs || a.rec - b.rec;

/** One unit per (id, kind): the union of a diff's copies, or the chosen snapshot block. */
function combine(copies: Unit[]): Unit {
  if (copies[0]!.snapshot) {
    return copies.reduce((
      best,
      u,
    ) => (u.rows.length > best.rows.length || (u.rows.length === best.rows.length && earlier(u, best) < 0)
      ? u
      : best)
    );
  }
  copies.sort(earlier);
  const first = copies[0]!;
  const rows = [...first.rows];
  const seen = new Set(rows.map((r) => `${r.side}|${r.price}`));
  for (const u of copies.slice(1)) {
    for (const r of u.rows) {
      const k = `${r.side}|${r.price}`;
      if (!seen.has(k)) {
        seen.add(k);
        rows.push(r);
      }
    }
  }
  return { ...first, rows };
}

/**
 * The depth_updates merger of one market (see the module doc).
 *
 * @example
 * ```ts
 * const row = (id: number, snapshot: boolean, localUs: number, price: number) => ({
 *   symbol: "BTCUSDT", exchange_time: null, transaction_time: null, local_time: localUs, first_update_id: id,
 *   final_update_id: id, prev_final_update_id: null, side: "bid", price, quantity: 1, is_snapshot: snapshot,
 * });
 * const tape = new DepthTape("spot");
 * const rows = tape.merge("BTCUSDT", [
 *   { rec: 0, row: row(10, true, 1, 100) }, { rec: 0, row: row(11, false, 2, 100.5) },
 *   { rec: 1, row: row(11, false, 3, 100.5) }, { rec: 1, row: row(12, false, 4, 101) },
 * ]);
 * rows.map((r) => r.final_update_id); // [10, 11, 12]: the copy of 11 that arrived first
 * ```
 */
export class DepthTape implements SymbolMerger {
  readonly counts = newCounts();
  readonly holes: DepthHole[] = [];
  readonly #state = new Map<string, SymbolState>();
  /** Units written near the end of the previous hour ({@link nearHourEnd}), to tell copies from older units. */
  #carry = new Set<string>();
  #late = new Set<string>();

  constructor(readonly market: Market) {}

  merge(symbol: string, rows: readonly Tagged[]): AnyRow[] {
    this.counts.read += rows.length;
    const byKey = Map.groupBy(
      unitsOf(rows as readonly Tagged<DepthRow>[]),
      (u) => `${symbol}|${u.snapshot ? "s" : "d"}|${u.id}`,
    );
    const units = [...byKey.values()].map(combine)
      .sort((a, b) => a.id - b.id || Number(a.snapshot) - Number(b.snapshot));
    let st = this.#state.get(symbol);
    if (st === undefined) {
      this.#state.set(symbol, st = { lastId: -Infinity, lastDiff: null, snapshotSince: null });
    }
    const out: DepthRow[] = [];
    for (let k = 0; k < units.length; k++) {
      const u = units[k]!;
      const next = units[k + 1];
      if (next?.snapshot && next.id === u.id && !u.snapshot && !this.#applies(st, u)) {
        // Futures: the first diff after a snapshot may end at its id (`u >= lastUpdateId`). With no book on the
        // tape for the diff to continue (the tape starts, or resumes after a hole), the snapshot goes first.
        this.#write(symbol, st, next, out);
        this.#write(symbol, st, u, out);
        k++;
      } else this.#write(symbol, st, u, out);
    }
    this.counts.kept += out.length;
    // Copies folded into a unit are duplicates too.
    this.counts.duplicates += rows.length - units.reduce((n, u) => n + u.rows.length, 0);
    return out;
  }

  endHour(): void {
    this.#carry = this.#late;
    this.#late = new Set();
  }

  /** Appends `u` past the tape's last id (or a diff ending at the snapshot just written); else counts it dropped. */
  #write(symbol: string, st: SymbolState, u: Unit, out: DepthRow[]): void {
    const key = `${symbol}|${u.snapshot ? "s" : "d"}|${u.id}`;
    const bridgesSnapshot = !u.snapshot && st.snapshotSince === u.id;
    if (u.id <= st.lastId && !bridgesSnapshot) {
      if (this.#carry.has(key)) this.counts.duplicates += u.rows.length;
      else this.counts.superseded += u.rows.length;
      return;
    }
    st.lastId = u.id;
    if (u.snapshot) st.snapshotSince = u.id;
    else {
      this.#checkChain(symbol, st, u);
      st.lastDiff = { id: u.id, localUs: u.localUs };
      st.snapshotSince = null;
    }
    if (nearHourEnd(u.localUs)) this.#late.add(key);
    out.push(...u.rows);
  }

  /** The diff continues the last diff written. */
  #continues(st: SymbolState, u: Unit): boolean {
    const last = st.lastDiff;
    if (last === null) return false;
    const first = u.rows[0]!;
    return diffContinues(this.market, first.first_update_id, u.id, first.prev_final_update_id, last.id);
  }

  /** The diff applies to the book the tape holds so far: it follows the snapshot written last, or the last diff. */
  #applies(st: SymbolState, u: Unit): boolean {
    if (st.snapshotSince === null) return this.#continues(st, u);
    const first = u.rows[0]!;
    return diffFollowsSnapshot(
      this.market,
      first.first_update_id,
      u.id,
      first.prev_final_update_id,
      st.snapshotSince,
    );
  }

  /** A diff must continue the last diff written, snapshots in between or not. */
  #checkChain(symbol: string, st: SymbolState, u: Unit): void {
    const last = st.lastDiff;
    if (last === null || this.#continues(st, u)) return;
    this.holes.push({
      symbol,
      lastId: last.id,
      resumeId: st.snapshotSince,
      fromUs: last.localUs,
      toUs: u.localUs,
    });
  }
}
