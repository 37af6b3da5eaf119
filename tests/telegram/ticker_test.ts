import assert from "node:assert/strict";
import { MAX_MESSAGE_CHARS } from "../../lib/telegram/html.ts";
import {
  fmtPrice,
  fmtSpreadBp,
  formatTicker,
  midsOf,
  quoteKey,
  type TickerInput,
  type TickerSymbol,
  troubleOf,
} from "../../lib/telegram/ticker.ts";

const NOW = Date.parse("2024-01-02T14:03:12Z");
const GIB = 2 ** 30;

function sym(market: string, symbol: string, over: Partial<TickerSymbol> = {}): TickerSymbol {
  return {
    market,
    symbol,
    bid: 100,
    ask: 100.02,
    connected: true,
    book: "synced",
    lastMessageAgeMs: 100,
    msgsPerSec: 10,
    flushRows: 1000,
    gapsToday: 0,
    ...over,
  };
}

function input(symbols: TickerSymbol[], over: Partial<TickerInput> = {}): TickerInput {
  return {
    nowMs: NOW,
    symbols,
    previousMids: new Map(),
    rssBytes: 182 * 2 ** 20,
    freeDiskBytes: 41.2 * GIB,
    gapsToday: 0,
    lastFlush: { atMs: NOW - 12_000, rows: 45_678, files: 23 },
    ...over,
  };
}

/** The lines inside the `<pre>` block. */
function tableOf(text: string): string[] {
  return /<pre>([^]*)<\/pre>/.exec(text)![1]!.split("\n");
}

Deno.test("formatTicker(): mid, spread and change in bp, msg/s and flush rows per symbol, then memory and disk", () => {
  const symbols = [
    sym("spot", "BTCUSDT", { bid: 43210.4, ask: 43210.6, msgsPerSec: 57.2, flushRows: 3400 }),
    sym("spot", "ETHUSDT", { bid: 2310.1, ask: 2310.2, msgsPerSec: 40, flushRows: 2100 }),
    sym("usdm", "BTCUSDT", { bid: 43215, ask: 43216, msgsPerSec: 61, flushRows: 3900 }),
  ];
  const previousMids = new Map([[quoteKey("spot", "BTCUSDT"), 43200], [quoteKey("usdm", "BTCUSDT"), 43260]]);
  const text = formatTicker(input(symbols, { previousMids, gapsToday: 0 }));
  assert.equal(
    text,
    "📈 <b>Ticker</b> 14:03:12 UTC · ✅ 3/3 ok\n" +
      "<pre> symbol        mid sprd   chg msg/s  rows\n" +
      "spot\n" +
      " BTCUSDT   43210.5 0.05  +2.4    57 3.40k\n" +
      " ETHUSDT   2310.15 0.43     -    40 2.10k\n" +
      "usdm\n" +
      " BTCUSDT   43215.5 0.23   -10    61 3.90k</pre>\n" +
      "RSS 182 MiB · disk 41.2 GiB free · gaps today 0\n" +
      "Last flush 12s ago: 45.7k rows, 23 files · sprd, chg in bp",
  );
  for (const line of tableOf(text)) assert.ok(line.length <= 42, line);
});

Deno.test("formatTicker(): symbols in trouble come first, marked and named; a symbol without a book shows dashes", () => {
  const symbols = [
    sym("spot", "BTCUSDT", { msgsPerSec: 50 }),
    sym("spot", "ETHUSDT", { msgsPerSec: 80 }),
    sym("spot", "XRPUSDT", { gapsToday: 3, msgsPerSec: 5 }),
    sym("usdm", "SOLUSDT", {
      connected: false,
      bid: null,
      ask: null,
      lastMessageAgeMs: 65_000,
      msgsPerSec: 0,
    }),
    sym("usdm", "BNBUSDT", { book: "buffering", bid: null, ask: null }),
  ];
  const text = formatTicker(input(symbols, { freeDiskBytes: null, gapsToday: null, lastFlush: null }));
  const lines = text.split("\n");
  assert.equal(lines[0], "📈 <b>Ticker</b> 14:03:12 UTC · ⚠️ 3/5 in trouble");
  assert.deepEqual(tableOf(text).map((l) => l.slice(0, 9).trimEnd()), [
    " symbol",
    "spot",
    "!XRPUSDT",
    " ETHUSDT",
    " BTCUSDT",
    "usdm",
    "!SOLUSDT",
    "!BNBUSDT",
  ]);
  assert.match(text, /!SOLUSDT {9}- {4}- {5}- {3}0\.0 1\.00k\n/);
  assert.ok(
    lines.includes(
      "⚠️ usdm SOLUSDT down, silent 1m 5s · usdm BNBUSDT book not in sync · spot XRPUSDT 3 gaps today",
    ),
    text,
  );
  assert.ok(lines.includes("RSS 182 MiB · disk ? free · gaps today ?"), text);
  assert.ok(lines.includes("No flush yet · sprd, chg in bp"), text);
});

Deno.test("formatTicker(): 200 symbols fit one message, the troubled and the busiest first, the rest counted", () => {
  const symbols: TickerSymbol[] = [];
  for (let i = 0; i < 200; i++) {
    const market = i % 2 === 0 ? "spot" : "usdm";
    symbols.push(
      sym(market, `S${String(i).padStart(3, "0")}USDT`, { msgsPerSec: i, bid: 1 + i, ask: 1.01 + i }),
    );
  }
  // Two quiet symbols in trouble, and one far beyond the rows shown.
  symbols[3] = { ...symbols[3]!, connected: false, bid: null, ask: null };
  symbols[7] = { ...symbols[7]!, gapsToday: 2 };
  const text = formatTicker(input(symbols), { maxRows: 20 });
  assert.ok(text.length < MAX_MESSAGE_CHARS / 2, `${text.length} characters`);
  const rows = tableOf(text).filter((l) => /^[ !]S\d{3}/.test(l)).map((l) => l.slice(0, 5));
  assert.equal(rows.length, 20);
  // Per market in config order: troubled first, then by rate.
  assert.deepEqual(rows, [
    " S198",
    " S196",
    " S194",
    " S192",
    " S190",
    " S188",
    " S186",
    " S184",
    " S182",
    "!S003",
    "!S007",
    " S199",
    " S197",
    " S195",
    " S193",
    " S191",
    " S189",
    " S187",
    " S185",
    " S183",
  ]);
  assert.match(text, /\n\+180 more: [\d.k]+ msg\/s, all ok<\/pre>/);
  assert.match(text, /· ⚠️ 2\/200 in trouble\n/);
  assert.match(text, /^📈 [^\n]*\n⚠️ usdm S003USDT down · usdm S007USDT 2 gaps today\n<pre>/);

  // With more troubled symbols than rows, the troubles list is cut and the rest says how many are troubled.
  const down = symbols.map((s) => ({ ...s, connected: false }));
  const worst = formatTicker(input(down), { maxRows: 20 });
  assert.ok(worst.length < MAX_MESSAGE_CHARS / 2, `${worst.length} characters`);
  assert.match(worst, /\n\+180 more: [\d.k]+ msg\/s, 180 in trouble<\/pre>/);
  assert.match(worst, /\n⚠️ (\w+ S\d{3}USDT down · ){5}\+195 more\n<pre>/);
});

Deno.test("troubleOf() ranks down, book out of sync, silent, gaps today, fine", () => {
  const cases: [Partial<TickerSymbol>, number, string | null][] = [
    [{ connected: false, lastMessageAgeMs: null }, 0, "down"],
    [{ book: "idle" }, 1, "book not in sync"],
    [{ lastMessageAgeMs: 61_000 }, 2, "silent 1m 1s"],
    [{ lastMessageAgeMs: null }, 2, "no message yet"],
    [{ gapsToday: 1 }, 3, "1 gap today"],
    [{ book: null }, 4, null],
    [{}, 4, null],
  ];
  for (const [over, rank, words] of cases) {
    assert.deepEqual(troubleOf(sym("spot", "X", over)), { rank, words }, JSON.stringify(over));
  }
});

Deno.test("fmtPrice() keeps six significant digits in at most nine characters", () => {
  const table: [number, string][] = [
    [104_523.456, "104523"],
    [43_210.55, "43210.6"],
    [2310.1, "2310.1"],
    [0.5123456, "0.512346"],
    [0.0001234, "0.0001234"],
    [0.00000123456, "1.23e-6"],
  ];
  for (const [p, want] of table) assert.equal(fmtPrice(p), want, String(p));
});

Deno.test("fmtSpreadBp() keeps a tiny spread visible and a locked book at zero", () => {
  const table: [number, string][] = [[0.0017, "<.01"], [0, "0.00"], [0.005, "0.01"], [0.43, "0.43"], [
    12.34,
    "12.3",
  ], [
    250,
    "250",
  ]];
  for (const [bp, want] of table) assert.equal(fmtSpreadBp(bp), want, String(bp));
  // In the message it is escaped HTML.
  const text = formatTicker(input([sym("spot", "BTCUSDT", { bid: 60_000, ask: 60_000.01 })]));
  assert.match(text, /\n BTCUSDT {5}60000 &lt;\.01 {5}- {4}10 1\.00k<\/pre>\n/);
});

Deno.test("midsOf() keeps the mids of symbols with both sides, for the next ticker's change", () => {
  const mids = midsOf([sym("spot", "A", { bid: 1, ask: 3 }), sym("spot", "B", { bid: null })]);
  assert.deepEqual([...mids], [["spot A", 2]]);
});
