/** Journal records as the collector appends them, for feeding a normalizer by hand. */
import type { Market } from "../../lib/binance/types.ts";
import type { RowSink } from "../../lib/pipeline/normalizer_contract.ts";
import type { JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";

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

/** A row sink that keeps each row as text (`table symbol {json}`), in order, to compare a replay with a live run. */
export function textRows(rows: string[]): RowSink {
  return {
    row: <N extends TableName>(_m: Market, table: N, symbol: string, _p: number, row: Row<N>) => {
      rows.push(`${table} ${symbol} ${JSON.stringify(row)}`);
    },
  };
}
