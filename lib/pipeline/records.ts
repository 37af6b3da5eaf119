/**
 * The records the collector journals and the normalizer consumes. Everything that changes the output is one of
 * these, so replaying the journal through the normalizer reproduces the live output exactly.
 */
import type { JournalRecord as StoredRecord } from "../storage/journal_format.ts";

/** What a journal record holds. The numeric values are stored in the journal: never renumber them. */
export const enum RecordKind {
  /** A WebSocket text frame exactly as received. */
  Frame = 1,
  /** A REST depth snapshot body exactly as received; `symbol` says whose. */
  Snapshot = 2,
  /** A connection opened for a plan; `text` is the connection plan key (e.g. `usdm/public/0`). */
  ConnOpen = 3,
  /** A connection closed; `text` is the reason. */
  ConnClose = 4,
  /** A stream stayed silent past its cadence; `text` is the combined stream name. */
  Stale = 5,
  /** The collector stopped cleanly; open gaps end here. */
  Shutdown = 6,
  /** Every stream of a connection is subscribed: it carries them all from this time on. */
  Subscribed = 7,
  /**
   * The normalizer's full state of one market (books, stream positions, open gaps) at a flush; recovery
   * replays the journal from the last committed one. Since 0.4 the state is as of the market's FlushMark (its
   * `asOf`), its books are in the CheckpointBooks records before it, and the market's records between the
   * FlushMark and this record come after the state.
   */
  Checkpoint = 8,
  /** A REST `aggTrades` body fetched to fill a hole; `text` is `<fromId> <toId>\n<body>`. */
  BackfillTrades = 9,
  /** A REST `klines` body fetched to fill a hole; `text` is `<interval> <fromOpenMs> <toOpenMs>\n<body>`. */
  BackfillKlines = 10,
  /**
   * Data since the last journaled frame may be missing from the journal: recovery found that the run before
   * stopped without a clean shutdown, or the journal failed and was reopened. Every stream opens a disconnect gap
   * from the last frame; `text` is the reason (empty: a crash).
   */
  Crashed = 11,
  /**
   * A REST `fundingRate` page (realized funding); `symbol` says whose, `text` is `<startTimeMs>\n<body>`: entries
   * from the start time on are new.
   */
  FundingRates = 12,
  /** A REST `premiumIndex` body (mark prices of symbols whose `markPrice` stream is not recorded). */
  PremiumIndex = 13,
  /**
   * A flush is about to checkpoint: holes still waiting for their REST backfill get their gap rows now, so that
   * committed files never miss rows outside a gap row (a later `backfilled` row says they were recovered).
   */
  FlushMark = 14,
  /**
   * With `symbols: all`, the recorded symbols changed: `text` is `{"add":[…],"remove":[…]}`. Added symbols get
   * streams on new connections (the same on replay); removed ones (delisted, halted) are retired: their open
   * gaps end, and their silence is no longer a gap.
   */
  Universe = 15,
  /**
   * exchangeInfo's description of recorded symbols that are new or changed (status, contract, assets): `text`
   * is a JSON array of rest_parse.ts's `ExchangeSymbol`; each becomes an `instruments` row.
   */
  Instruments = 16,
  /**
   * Synced books of a flush's checkpoint, a part of them (JSON: the checkpoint's `asOf` position and the books);
   * the market's {@link RecordKind.Checkpoint} record follows the last part.
   */
  CheckpointBooks = 17,
}

/** One journaled record, its kind a {@link RecordKind} (the fields are described in journal_format.ts). */
export type JournalRecord = StoredRecord<RecordKind>;

/** Records of REST answers that become rows outside the socket path (funding polls). */
export type RestRecordKind = RecordKind.FundingRates | RecordKind.PremiumIndex;
