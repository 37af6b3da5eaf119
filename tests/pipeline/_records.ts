/** Journal records as the collector appends them, for feeding a normalizer by hand. */
import type { Market } from "../../lib/binance/types.ts";
import type { JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";

/** A record maker of one market: `rec(localUs, conn, kind, text?, symbol?)`, text and symbol empty by default. */
export function recordsOf(market: Market) {
  return (localUs: number, conn: number, kind: RecordKind, text = "", symbol = ""): JournalRecord => ({
    localUs,
    market,
    conn,
    kind,
    symbol,
    text,
  });
}
