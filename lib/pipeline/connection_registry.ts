/**
 * Which connection carries which streams, as the journal tells it: a connection plan's streams by plan key,
 * each open connection's plan, and the last frame each delivered (a socket delivers in order, so what a lost
 * connection missed came after its last frame). Pure; saved in checkpoints.
 * @module
 */
import type { StreamState } from "./stream_state.ts";

/** The saved form of one open connection. */
export interface SavedConnection {
  id: number;
  plan: string;
  /** Its last frame (absent in states saved before 0.4). */
  lastUs?: number | null;
}

/** Open connections of one market and their streams. */
export class ConnectionRegistry {
  readonly #planStreams = new Map<string, StreamState[]>();
  readonly #streams = new Map<number, StreamState[]>();
  readonly #plans = new Map<number, string>();
  readonly #lastUs = new Map<number, number>();

  /** Registers a connection plan's streams under its key. */
  addPlan(key: string, streams: StreamState[]): void {
    this.#planStreams.set(key, streams);
  }

  /** A connection opened for plan `key`; returns its streams (undefined for a plan this run does not have). */
  open(conn: number, key: string): StreamState[] | undefined {
    const streams = this.#planStreams.get(key);
    if (!streams) return undefined;
    this.#streams.set(conn, streams);
    this.#plans.set(conn, key);
    return streams;
  }

  /** The streams of an open connection. */
  streamsOf(conn: number): readonly StreamState[] | undefined {
    return this.#streams.get(conn);
  }

  /** Open connections. */
  connections(): IterableIterator<number> {
    return this.#streams.keys();
  }

  /** A frame arrived on `conn`. Hot path. */
  frame(conn: number, localUs: number): void {
    this.#lastUs.set(conn, localUs);
  }

  /** A connection closed: its streams and its last frame (`fallbackUs` if it delivered none). */
  close(conn: number, fallbackUs: number): { streams: StreamState[]; aliveUs: number } | undefined {
    const streams = this.#streams.get(conn);
    if (!streams) return undefined;
    const aliveUs = this.#lastUs.get(conn) ?? fallbackUs;
    this.#streams.delete(conn);
    this.#plans.delete(conn);
    this.#lastUs.delete(conn);
    return { streams, aliveUs };
  }

  /** The last frame of the connections carrying `st` (NaN when none delivered one). */
  lastUsOf(st: StreamState): number {
    let last = NaN;
    for (const [conn, streams] of this.#streams) {
      const us = this.#lastUs.get(conn);
      if (us !== undefined && streams.includes(st) && !(us <= last)) last = us;
    }
    return last;
  }

  /** Forgets every connection (a stop, a crash: none of them exists any more). */
  clear(): void {
    this.#streams.clear();
    this.#plans.clear();
    this.#lastUs.clear();
  }

  /** The saved form of the open connections. */
  save(): SavedConnection[] {
    return [...this.#plans].map(([id, plan]) => {
      const lastUs = this.#lastUs.get(id);
      return { id, plan, lastUs: lastUs === undefined ? null : lastUs };
    });
  }

  /** Restores saved connections (those of plans this run does not have are dropped). */
  restore(saved: readonly SavedConnection[]): void {
    this.clear();
    for (const c of saved) {
      if (!this.open(c.id, c.plan)) continue;
      if (c.lastUs != null) this.#lastUs.set(c.id, c.lastUs);
    }
  }
}
