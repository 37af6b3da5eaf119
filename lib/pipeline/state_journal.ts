/**
 * A flush's captured state into the journal: each market's books a part per event-loop turn (so that frames go
 * on being received), then its Checkpoint record, which names the FlushMark the state is as of.
 * @module
 */
import type { Market } from "../binance/types.ts";
import { nextTurn } from "../loop_lag.ts";
import type { JournalPosition, JournalWriter, RecordText } from "../storage/journal.ts";
import type { BookImage } from "./book_image.ts";
import type { JournalKeeper } from "./journal_keeper.ts";
import type { CapturedState } from "./normalizer_state.ts";
import { RecordKind } from "./records.ts";

/** A market's state captured while the records after its FlushMark wait, journaled afterwards. */
export interface Capture {
  market: Market;
  /** Its FlushMark: the state is as of this record. */
  asOf: JournalPosition;
  /** The state without its books. */
  state: CapturedState;
  /** Its synced books. */
  image: BookImage;
}

/**
 * Journals each captured state with `writer`. Returns the bytes journaled, or null when the journal failed or
 * was reopened (the FlushMarks may be lost with the old segment).
 */
export async function journalCaptures(
  wal: JournalKeeper,
  writer: JournalWriter,
  captures: readonly Capture[],
  atUs: number,
): Promise<number | null> {
  let bytes = 0;
  const append = (market: Market, kind: RecordKind, text: RecordText) => {
    bytes += text.length;
    return wal.writer === writer && wal.append({ localUs: atUs, market, conn: 0, kind, symbol: "", text });
  };
  for (const c of captures) {
    const parts = c.image.parts(c.asOf);
    // Each part is encoded in a turn of its own, the first one too (not while records are held).
    for (await nextTurn();; await nextTurn()) {
      const part = parts.next();
      if (part.done) break;
      if (!append(c.market, RecordKind.CheckpointBooks, part.value)) return null;
    }
    if (!append(c.market, RecordKind.Checkpoint, c.state.text())) return null;
  }
  return bytes;
}
