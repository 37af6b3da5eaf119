/**
 * A market normalizer's saved state: the JSON of a `Checkpoint` record, from which recovery
 * restores the normalizer (normalizer.ts: `exportState`, `captureState`, `restoreState`).
 * @module
 */

import type { Market } from "../binance/types.ts";
import type { JournalPosition } from "../storage/journal.ts";
import type { SavedBackfills } from "./backfill.ts";
import type { SavedConnection } from "./connection_registry.ts";
import type { SavedStream } from "./stream_state.ts";
import type { SavedUniverse } from "./universe_changes.ts";

/** A market's saved state. */
export interface SavedState {
  v: 1;
  market: Market;
  /** Saved after a clean stop (nothing was running). */
  stopped: boolean;
  /** Local time of the last frame (absent in states saved before 0.3.1). */
  lastFrameUs?: number | null;
  conns: SavedConnection[];
  streams: SavedStream[];
  backfills: SavedBackfills;
  /** The symbols of each `Universe` record's addition in order (`symbols: all` only), and the retired. */
  universe?: SavedUniverse;
  /**
   * A flush's checkpoint: the state as of this journal record (the market's FlushMark). Its synced books are in
   * the `CheckpointBooks` records of the same `asOf`, journaled before this one.
   */
  asOf?: JournalPosition;
}

/**
 * A state captured at a flush while records were held, as JSON later ({@link text}): what may change once
 * they go on (connections, holes awaiting backfill, the universe) is JSON at once; the streams' saved forms are
 * fresh objects (an open gap is replaced, never changed) and are stringified later, the ~1.6 MiB of a whole
 * market's streams (~10 ms) being most of the text.
 */
export class CapturedState {
  readonly #head: string;
  readonly #streams: SavedStream[];

  /** `state` without its streams, `asOf` included. */
  constructor(state: Omit<SavedState, "streams">, streams: SavedStream[]) {
    this.#head = JSON.stringify(state);
    this.#streams = streams;
  }

  /** The {@link SavedState} as JSON. */
  text(): string {
    return `${this.#head.slice(0, -1)},"streams":${JSON.stringify(this.#streams)}}`;
  }
}
