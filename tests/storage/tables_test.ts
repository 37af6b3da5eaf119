import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { isTableName, TABLE_NAMES, TABLES } from "../../lib/storage/tables.ts";
import { arrowSchema } from "../../lib/storage/arrow_schema.ts";

// Transcribed from the output contract (README.md, "Output"): names and order are the contract.
const CONTRACT: Record<string, string> = {
  depth_updates: "symbol, exchange_time, transaction_time, local_time, first_update_id, final_update_id, " +
    "prev_final_update_id, side, price, quantity, is_snapshot",
  book_snapshots:
    "symbol, exchange_time, local_time, last_update_id, bid_prices, bid_quantities, ask_prices, " +
    "ask_quantities",
  trades:
    "symbol, exchange_time, trade_time, local_time, agg_trade_id, first_trade_id, last_trade_id, price, " +
    "quantity, is_buyer_maker, source",
  klines:
    "symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume, trade_count, " +
    "taker_buy_volume, taker_buy_quote_volume, exchange_time, local_time",
  book_tickers: "symbol, update_id, exchange_time, transaction_time, local_time, bid_price, bid_quantity, " +
    "ask_price, ask_quantity",
  liquidations: "symbol, exchange_time, trade_time, local_time, side, order_type, time_in_force, price, " +
    "average_price, original_quantity, last_filled_quantity, filled_quantity, status",
  mark_prices:
    "symbol, exchange_time, local_time, mark_price, index_price, estimated_settle_price, funding_rate, " +
    "next_funding_time",
  funding_rates: "symbol, funding_time, funding_rate, mark_price, local_time",
  // 0.4.0 addition (README changelog): exchangeInfo's description of each recorded symbol.
  instruments:
    "symbol, local_time, status, contract_type, contract_size, delivery_time, onboard_time, pair, " +
    "base_asset, quote_asset, margin_asset",
  gaps: "symbol, stream, kind, start_time, end_time, last_update_id, resume_update_id, reason",
};

Deno.test("TABLES lists exactly the contract's tables and columns, in order", () => {
  assert.deepEqual([...TABLE_NAMES], Object.keys(CONTRACT));
  for (const name of TABLE_NAMES) {
    assert.equal(TABLES[name].name, name);
    assert.deepEqual(TABLES[name].columns.map((c) => c.name), CONTRACT[name]!.split(", "), name);
    assert.deepEqual(arrowSchema(name).fields.map((f) => f.name), CONTRACT[name]!.split(", "), name);
  }
});

Deno.test("TABLES derives Arrow types from the logical types", () => {
  for (const name of TABLE_NAMES) {
    const { columns } = TABLES[name];
    const schema = arrowSchema(name);
    columns.forEach((c, i) => {
      const field = schema.fields[i]!;
      assert.equal(field.nullable, c.nullable, `${name}.${c.name}`);
      const t = field.type;
      if (c.name.endsWith("_time")) assert.equal(c.type, "timestamp", `${name}.${c.name}`);
      if (c.name.endsWith("_id")) assert.equal(c.type, "int64", `${name}.${c.name}`);
      switch (c.type) {
        case "timestamp":
          assert.ok(
            arrow.DataType.isTimestamp(t) && t.unit === arrow.TimeUnit.MICROSECOND && t.timezone === "UTC",
          );
          break;
        case "symbol":
          // Every table leads with `symbol`, plain large_utf8 (polars prunes row groups by it).
          assert.equal(i, 0, `${name}.${c.name}`);
          assert.ok(arrow.DataType.isLargeUtf8(t), `${name}.${c.name}`);
          break;
        case "string":
          assert.ok(arrow.DataType.isDictionary(t) && arrow.DataType.isUtf8(t.dictionary));
          assert.equal(t.indices.bitWidth, 32);
          break;
        case "int64":
          assert.ok(arrow.DataType.isInt(t) && t.bitWidth === 64 && t.isSigned);
          break;
        case "float64":
          assert.ok(arrow.DataType.isFloat(t) && t.precision === arrow.Precision.DOUBLE);
          break;
        case "bool":
          assert.ok(arrow.DataType.isBool(t));
          break;
        case "list_float64":
          assert.ok(arrow.DataType.isList(t) && arrow.DataType.isFloat(t.children[0]!.type));
          break;
      }
    });
  }
});

Deno.test("TABLES gives every dictionary column its own dictionary id", () => {
  const ids = TABLE_NAMES.flatMap((n) =>
    arrowSchema(n).fields.flatMap((f) => (arrow.DataType.isDictionary(f.type) ? [f.type.id] : []))
  );
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("TABLES marks the contract's spot-null columns nullable and local_time required", () => {
  const nullable = (t: keyof typeof TABLES, c: string) =>
    arrowSchema(t).fields.find((f) => f.name === c)?.nullable;
  assert.equal(nullable("depth_updates", "transaction_time"), true);
  assert.equal(nullable("depth_updates", "prev_final_update_id"), true);
  assert.equal(nullable("book_tickers", "exchange_time"), true);
  assert.equal(nullable("book_tickers", "transaction_time"), true);
  for (const name of TABLE_NAMES) {
    if (name !== "gaps") assert.equal(nullable(name, "local_time"), false, name);
    assert.equal(nullable(name, "symbol"), false, name);
  }
});

Deno.test("isTableName() accepts only contract tables", () => {
  assert.ok(isTableName("trades"));
  assert.ok(!isTableName("toString"));
  assert.ok(!isTableName("trade"));
});
