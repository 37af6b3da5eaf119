import assert from "node:assert/strict";
import {
  allSymbols,
  CommandArgError,
  parseDateArg,
  parseGapsArgs,
  utcDate,
} from "../../lib/telegram/args.ts";
import { MARKETS } from "./_fixtures.ts";

const NOW = Date.parse("2024-01-03T10:00:00Z");
const SYMBOLS = allSymbols(MARKETS);

Deno.test("allSymbols() lists each symbol once in config order", () => {
  assert.deepEqual(SYMBOLS, ["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
});

Deno.test("parseGapsArgs() takes a symbol and a date in either order", () => {
  const table: [string, { symbol: string | null; date: string }][] = [
    ["", { symbol: null, date: "2024-01-03" }],
    ["btcusdt", { symbol: "BTCUSDT", date: "2024-01-03" }],
    ["2024-01-01", { symbol: null, date: "2024-01-01" }],
    ["  SolUsdt   yesterday ", { symbol: "SOLUSDT", date: "2024-01-02" }],
    ["Today ETHUSDT", { symbol: "ETHUSDT", date: "2024-01-03" }],
  ];
  for (const [text, want] of table) assert.deepEqual(parseGapsArgs(text, SYMBOLS, NOW), want, text);
});

Deno.test("parseGapsArgs() explains wrong arguments with the usage", () => {
  const table: [string, string][] = [
    ["DOGEUSDT", "/gaps: unknown symbol DOGEUSDT (recorded: BTCUSDT, ETHUSDT, SOLUSDT)"],
    ["BTCUSDT ETHUSDT", "/gaps: give at most one symbol"],
    ["today 2024-01-01", "/gaps: give at most one date"],
    ["2024-02-30", "/gaps: 2024-02-30 is not a date"],
    ["2024-01-04", "/gaps: 2024-01-04 is in the future"],
  ];
  for (const [text, want] of table) {
    assert.throws(() => parseGapsArgs(text, SYMBOLS, NOW), (err: unknown) => {
      assert.ok(err instanceof CommandArgError);
      assert.equal(err.name, "CommandArgError");
      assert.equal(err.message, `${want}\nUsage: /gaps [symbol] [YYYY-MM-DD | today | yesterday]`);
      return true;
    }, text);
  }
});

Deno.test("parseDateArg() takes at most one date word", () => {
  assert.equal(parseDateArg("report", "", NOW), "2024-01-03");
  assert.equal(parseDateArg("report", "YESTERDAY", NOW), "2024-01-02");
  assert.equal(parseDateArg("coverage", "2023-12-31", NOW), "2023-12-31");
  assert.throws(
    () => parseDateArg("coverage", "BTCUSDT", NOW),
    /^CommandArgError: \/coverage: BTCUSDT is not a date/,
  );
  assert.throws(() => parseDateArg("report", "today yesterday", NOW), /give at most one date/);
  assert.throws(() => parseDateArg("report", "2024-13-01", NOW), /2024-13-01 is not a date/);
});

Deno.test("utcDate() is the UTC day", () => {
  assert.equal(utcDate(Date.parse("2024-01-02T23:59:59.999Z")), "2024-01-02");
  assert.equal(utcDate(Date.parse("2024-01-03T00:00:00Z")), "2024-01-03");
});
