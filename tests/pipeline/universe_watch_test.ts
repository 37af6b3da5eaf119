/**
 * UniverseWatch with a configured list: listed symbols that stop trading are retired and come back when they
 * trade again, the list never grows, and exchangeInfo's description of the recorded symbols is journaled once
 * and again only when it changes. Driven through the normalizer, so the records become rows.
 */
import assert from "node:assert/strict";
import type { ExchangeSymbol } from "../../lib/binance/rest_parse.ts";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import { type JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";
import { UniverseWatch } from "../../lib/pipeline/universe_watch.ts";
import type { Row } from "../../lib/storage/tables.ts";

const contract = (symbol: string, status: string, deliveryDate: number | null): ExchangeSymbol => ({
  symbol,
  status,
  baseAsset: "BTC",
  quoteAsset: "USD",
  marginAsset: "BTC",
  pair: "BTCUSD",
  contractType: deliveryDate === null ? "PERPETUAL" : "CURRENT_QUARTER",
  contractSize: 100,
  deliveryDate,
  onboardDate: 1_597_042_800_000,
});

Deno.test("UniverseWatch, configured list: delivery retires a contract, instruments rows only on change", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plan = planStreams({
      market: "coinm",
      wsUrl: "wss://x",
      symbols: ["BTCUSD_PERP", "BTCUSD_261225"],
      streams: ["aggTrade"],
    });
    const rows: Row<"instruments">[] = [];
    const retired: string[] = [];
    const revived: string[] = [];
    const n = new MarketNormalizer(plan, {
      row: (_m, table, _s, _t, row) => {
        if (table === "instruments") rows.push(row as Row<"instruments">);
      },
    }, {
      needSnapshot: () => {},
      gap: () => {},
      retired: (s) => retired.push(...s.map((p) => p.name)),
      revived: (s) => revived.push(...s.map((p) => p.name)),
    }, { topLevels: 5 });
    const journal: JournalRecord[] = [];
    let listing: ExchangeSymbol[] = [
      contract("BTCUSD_PERP", "TRADING", null),
      contract("BTCUSD_261225", "TRADING", 1_798_185_600_000),
      contract("ETHUSD_PERP", "TRADING", null), // not configured: neither recorded nor described
    ];
    let nowUs = 1_000_000;
    const watch = new UniverseWatch({
      market: "coinm",
      rest: {
        exchangeInfo: () => Promise.resolve({ value: { rateLimits: [], symbols: listing } } as never),
        tickers24h: () => Promise.reject(new Error("not used with a list")),
      },
      filter: null,
      listed: ["BTCUSD_PERP", "BTCUSD_261225"],
      current: () => n.symbols(),
      record: (rec) => {
        journal.push(rec);
        n.process(rec);
      },
      log: () => {},
      clock: { nowUs: () => nowUs, nowMs: () => nowUs / 1000 },
      dataDir: dir,
    });

    assert.equal(await watch.refresh(), true);
    assert.deepEqual(
      journal.map((r) => r.kind),
      [RecordKind.Instruments],
      "all listed trade: no universe change",
    );
    assert.deepEqual(rows.map((r) => [r.symbol, r.status, r.delivery_time]), [
      ["BTCUSD_PERP", "TRADING", null],
      ["BTCUSD_261225", "TRADING", 1_798_185_600_000_000],
    ]);
    assert.equal(rows[0]!.contract_size, 100);
    assert.equal(rows[0]!.onboard_time, 1_597_042_800_000_000);

    nowUs = 2_000_000;
    assert.equal(await watch.refresh(), true);
    assert.equal(journal.length, 1, "nothing changed: nothing journaled");

    // The quarterly reaches its delivery: described again, retired (its silence is no gap), the perpetual stays.
    nowUs = 3_000_000;
    listing = [listing[0]!, contract("BTCUSD_261225", "DELIVERING", 1_798_185_600_000), listing[2]!];
    await watch.refresh();
    assert.deepEqual(journal.slice(1).map((r) => r.kind), [RecordKind.Instruments, RecordKind.Universe]);
    assert.deepEqual(rows.slice(2).map((r) => [r.symbol, r.status]), [["BTCUSD_261225", "DELIVERING"]]);
    assert.deepEqual(retired, ["btcusd_261225@aggTrade"]);
    assert.deepEqual(n.symbols(), ["BTCUSD_PERP"]);

    // A checkpoint keeps the retirement; trading again revives it without growing the plan.
    const b = new MarketNormalizer(plan, { row: () => {} }, { needSnapshot: () => {}, gap: () => {} }, {
      topLevels: 5,
    });
    b.restoreState(n.exportState());
    assert.deepEqual(b.symbols(), ["BTCUSD_PERP"]);
    listing = [listing[0]!, contract("BTCUSD_261225", "TRADING", 1_798_185_600_000), listing[2]!];
    await watch.refresh();
    assert.deepEqual(revived, ["btcusd_261225@aggTrade"]);
    assert.deepEqual(n.symbols().sort(), ["BTCUSD_261225", "BTCUSD_PERP"]);
    assert.equal(plan.streams.length, 2, "a configured list never grows");
    const log = await Deno.readTextFile(`${dir}/_meta/universe.jsonl`);
    assert.equal(log.trim().split("\n").length, 2, "each change appended to the change log");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("UniverseWatch, symbols: all: a whole market's first read is journaled over several event-loop turns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const listing = Array.from({ length: 600 }, (_, i) => ({
      ...contract(`S${String(i).padStart(3, "0")}USDT`, "TRADING", null),
      quoteAsset: "USDT",
    }));
    const journal: (JournalRecord | "turn")[] = [];
    // A timer armed before the read: it can only fire between records if the watch lets the loop turn.
    let ticking = true;
    const tick = () => {
      if (!ticking) return;
      journal.push("turn");
      setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const watch = new UniverseWatch({
      market: "spot",
      rest: {
        exchangeInfo: () => Promise.resolve({ value: { rateLimits: [], symbols: listing } } as never),
        tickers24h: () => Promise.reject(new Error("no volume minimum")),
      },
      filter: { quoteAssets: [], include: [], exclude: [], minQuoteVolume: 0, refreshSec: 300 },
      current: () => [],
      record: (rec) => journal.push(rec),
      log: () => {},
      clock: { nowUs: () => 1_000_000, nowMs: () => 1_000 },
      dataDir: dir,
    });
    assert.equal(await watch.refresh(), true);
    ticking = false;
    const records = journal.filter((r): r is JournalRecord => r !== "turn");
    assert.deepEqual(records.map((r) => r.kind), [
      RecordKind.Instruments,
      RecordKind.Instruments,
      RecordKind.Instruments,
      RecordKind.Universe,
    ]);
    const described = records.slice(0, 3).map((r) => JSON.parse(r.text) as ExchangeSymbol[]);
    assert.deepEqual(described.map((d) => d.length), [250, 250, 100]);
    assert.deepEqual(
      described.flat().map((s) => s.symbol),
      listing.map((s) => s.symbol),
      "each once, in order",
    );
    assert.equal(JSON.parse(records[3]!.text).add.length, 600);
    // Between any two records (and before the first, after the read) the loop turned.
    const kinds = journal.map((r) => r === "turn" ? "turn" : "record");
    for (let i = kinds.indexOf("record"); i < kinds.length - 1; i++) {
      if (kinds[i] === "record") {
        assert.equal(kinds[i + 1], "turn", `the loop did not turn after record ${i}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
