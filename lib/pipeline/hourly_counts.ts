/**
 * Messages per stream and UTC hour, for the coverage ledger: each stream counts the hour it is in
 * ({@link StreamState.count}); an hour closes when the stream's first message of the next arrives, and a flush
 * takes the closed hours and the open counts so far.
 * @module
 */

import type { StreamState } from "./stream_state.ts";
import { HOUR_US } from "../ledger/intervals.ts";

/** Messages of one stream in one UTC hour. */
export interface StreamCount {
  symbol: string;
  stream: string;
  hourUs: number;
  messages: number;
}

/** The closed hours' counts of a market's streams, until a flush takes them. */
export class HourlyCounts {
  readonly #closed: StreamCount[] = [];

  /** Counts a message of `st` received at `localUs`, closing the stream's hour when a new one began. */
  count(st: StreamState, localUs: number): void {
    const hourUs = localUs - localUs % HOUR_US;
    if (hourUs !== st.countHourUs) {
      if (st.count > 0) this.#closed.push(countOf(st));
      st.count = 0;
      st.countHourUs = hourUs;
    }
    st.count++;
    st.totals.messages++;
  }

  /** The counts since the last take: closed hours, then each stream's open hour (its count restarts at 0). */
  take(states: readonly StreamState[]): StreamCount[] {
    const out = this.#closed.splice(0);
    for (const st of states) {
      if (st.count === 0) continue;
      out.push(countOf(st));
      st.count = 0;
    }
    return out;
  }

  /** Gives back counts whose flush failed: the next take includes them. */
  putBack(counts: readonly StreamCount[]): void {
    this.#closed.unshift(...counts);
  }
}

const countOf = (st: StreamState): StreamCount => ({
  symbol: st.ps.symbol,
  stream: st.ps.stream,
  hourUs: st.countHourUs,
  messages: st.count,
});
