/**
 * The schema of every output table, in one place (binding: the output contract, README.md "Output").
 *
 * Each table is an ordered list of columns with a logical type; the Arrow schema written to Parquet is derived
 * from it (arrow_schema.ts), so a name, an order or a type changes here and nowhere else. No Arrow here: the
 * collector's main thread, which only buffers rows, never loads apache-arrow.
 * @module
 */

/**
 * Logical column types: `string` is dictionary-typed UTF-8, `timestamp` is µs since the epoch (UTC),
 * `list_float64` is `list<double>` (order-book levels). `symbol` is the column every file is sorted and its row
 * groups cut by: UTF-8 typed `large_utf8` in Arrow (dictionary-encoded in Parquet all the same), because
 * polars does not skip row groups by the statistics of a dictionary-typed (Categorical) column.
 */
export type ColumnType = "symbol" | "string" | "timestamp" | "int64" | "float64" | "bool" | "list_float64";

/** One column of a table: its name, logical type and whether it may hold nulls. */
export interface ColumnSpec<
  N extends string = string,
  T extends ColumnType = ColumnType,
  Nullable extends boolean = boolean,
> {
  readonly name: N;
  readonly type: T;
  readonly nullable: Nullable;
}

const req = <N extends string, T extends ColumnType>(name: N, type: T): ColumnSpec<N, T, false> => ({
  name,
  type,
  nullable: false,
});
const opt = <N extends string, T extends ColumnType>(name: N, type: T): ColumnSpec<N, T, true> => ({
  name,
  type,
  nullable: true,
});

// Nullability beyond the contract's "(null on spot)": rows that can come from REST (snapshots, backfills)
// have no event time `E`; delivery contracts (COIN-M quarterlies) have no funding rate / next funding time; a
// depth bound only exists for depth gaps; old REST funding records may lack a mark price.
const COLUMNS = {
  depth_updates: [
    req("symbol", "symbol"),
    opt("exchange_time", "timestamp"),
    opt("transaction_time", "timestamp"),
    req("local_time", "timestamp"),
    req("first_update_id", "int64"),
    req("final_update_id", "int64"),
    opt("prev_final_update_id", "int64"),
    req("side", "string"),
    req("price", "float64"),
    req("quantity", "float64"),
    req("is_snapshot", "bool"),
  ],
  book_snapshots: [
    req("symbol", "symbol"),
    req("exchange_time", "timestamp"),
    req("local_time", "timestamp"),
    req("last_update_id", "int64"),
    req("bid_prices", "list_float64"),
    req("bid_quantities", "list_float64"),
    req("ask_prices", "list_float64"),
    req("ask_quantities", "list_float64"),
  ],
  trades: [
    req("symbol", "symbol"),
    opt("exchange_time", "timestamp"),
    req("trade_time", "timestamp"),
    req("local_time", "timestamp"),
    req("agg_trade_id", "int64"),
    req("first_trade_id", "int64"),
    req("last_trade_id", "int64"),
    req("price", "float64"),
    req("quantity", "float64"),
    req("is_buyer_maker", "bool"),
    req("source", "string"),
  ],
  klines: [
    req("symbol", "symbol"),
    req("interval", "string"),
    req("open_time", "timestamp"),
    req("close_time", "timestamp"),
    req("open", "float64"),
    req("high", "float64"),
    req("low", "float64"),
    req("close", "float64"),
    req("volume", "float64"),
    req("quote_volume", "float64"),
    req("trade_count", "int64"),
    req("taker_buy_volume", "float64"),
    req("taker_buy_quote_volume", "float64"),
    opt("exchange_time", "timestamp"),
    req("local_time", "timestamp"),
  ],
  book_tickers: [
    req("symbol", "symbol"),
    req("update_id", "int64"),
    opt("exchange_time", "timestamp"),
    opt("transaction_time", "timestamp"),
    req("local_time", "timestamp"),
    req("bid_price", "float64"),
    req("bid_quantity", "float64"),
    req("ask_price", "float64"),
    req("ask_quantity", "float64"),
  ],
  liquidations: [
    req("symbol", "symbol"),
    req("exchange_time", "timestamp"),
    req("trade_time", "timestamp"),
    req("local_time", "timestamp"),
    req("side", "string"),
    req("order_type", "string"),
    req("time_in_force", "string"),
    req("price", "float64"),
    req("average_price", "float64"),
    req("original_quantity", "float64"),
    req("last_filled_quantity", "float64"),
    req("filled_quantity", "float64"),
    req("status", "string"),
  ],
  mark_prices: [
    req("symbol", "symbol"),
    req("exchange_time", "timestamp"),
    req("local_time", "timestamp"),
    req("mark_price", "float64"),
    req("index_price", "float64"),
    req("estimated_settle_price", "float64"),
    opt("funding_rate", "float64"),
    opt("next_funding_time", "timestamp"),
  ],
  funding_rates: [
    req("symbol", "symbol"),
    req("funding_time", "timestamp"),
    req("funding_rate", "float64"),
    opt("mark_price", "float64"),
    req("local_time", "timestamp"),
  ],
  instruments: [
    req("symbol", "symbol"),
    req("local_time", "timestamp"),
    req("status", "string"),
    opt("contract_type", "string"),
    opt("contract_size", "float64"),
    opt("delivery_time", "timestamp"),
    opt("onboard_time", "timestamp"),
    opt("pair", "string"),
    req("base_asset", "string"),
    req("quote_asset", "string"),
    opt("margin_asset", "string"),
  ],
  gaps: [
    req("symbol", "symbol"),
    req("stream", "string"),
    req("kind", "string"),
    req("start_time", "timestamp"),
    req("end_time", "timestamp"),
    opt("last_update_id", "int64"),
    opt("resume_update_id", "int64"),
    req("reason", "string"),
  ],
} as const;

/** Name of an output table (the `{table}` path segment). */
export type TableName = keyof typeof COLUMNS;

/** The columns of table `N`, in contract order. */
export type ColumnsOf<N extends TableName> = (typeof COLUMNS)[N];

type BaseValue<T extends ColumnType> = T extends "string" | "symbol" ? string
  : T extends "bool" ? boolean
  : T extends "list_float64" ? ArrayLike<number>
  // timestamp (µs), int64 and float64 are all JS numbers: µs times and Binance ids fit in 2^53.
  : number;

/** The JS value a column accepts: `null` only for nullable columns. */
export type ColumnValue<C extends ColumnSpec> = C["nullable"] extends true ? BaseValue<C["type"]> | null
  : BaseValue<C["type"]>;

/**
 * One row of table `N`, keyed by column name.
 *
 * @example
 * ```ts
 * const row: Row<"funding_rates"> = {
 *   symbol: "BTCUSDT", funding_time: 1_700_000_000_000_000, funding_rate: 0.0001, mark_price: null,
 *   local_time: 1_700_000_000_123_456,
 * };
 * ```
 */
export type Row<N extends TableName> = { [C in ColumnsOf<N>[number] as C["name"]]: ColumnValue<C> };

/** A table: its name, its columns and its time column. */
export interface TableSpec<N extends TableName = TableName> {
  readonly name: N;
  readonly columns: ColumnsOf<N>;
  /**
   * The non-null timestamp that places a row in time: `local_time`, or `start_time` for `gaps` (which has no
   * arrival time). Buffers and the manifest track its range.
   */
  readonly timeColumn: string;
}

/** Every table of the output contract, in contract order. */
export const TABLE_NAMES: readonly TableName[] = Object.keys(COLUMNS) as TableName[];

function buildSpec<N extends TableName>(name: N): TableSpec<N> {
  return { name, columns: COLUMNS[name], timeColumn: name === "gaps" ? "start_time" : "local_time" };
}

/**
 * Every table's spec, keyed by name.
 *
 * @example
 * ```ts
 * TABLES.trades.columns.map((c) => c.name); // ["symbol", "exchange_time", "trade_time", ...]
 * ```
 */
export const TABLES: { readonly [N in TableName]: TableSpec<N> } = {
  depth_updates: buildSpec("depth_updates"),
  book_snapshots: buildSpec("book_snapshots"),
  trades: buildSpec("trades"),
  klines: buildSpec("klines"),
  book_tickers: buildSpec("book_tickers"),
  liquidations: buildSpec("liquidations"),
  mark_prices: buildSpec("mark_prices"),
  funding_rates: buildSpec("funding_rates"),
  instruments: buildSpec("instruments"),
  gaps: buildSpec("gaps"),
};

/** Whether `name` is one of the output tables. */
export function isTableName(name: string): name is TableName {
  return Object.hasOwn(COLUMNS, name);
}
