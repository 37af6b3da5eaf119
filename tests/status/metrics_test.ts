import assert from "node:assert/strict";
import { escapeLabelValue, formatValue, renderMetrics } from "../../lib/status/metrics.ts";
import type { StatusSnapshot } from "../../lib/status/snapshot.ts";
import { fakeMarketSnapshot } from "./fake_source.ts";

const BASE: StatusSnapshot = {
  version: "1.2.3",
  startedAtMs: 1_700_000_000_000,
  nowMs: 1_700_000_360_000,
  streams: [{
    market: "spot",
    symbol: "BTCUSDT",
    stream: "depth@100ms",
    connected: true,
    stale: false,
    messages: 1234,
    bytes: 56789,
    msgsPerSec: 10,
    lastMessageAgeMs: 250,
    gaps: 1,
    gapsToday: 2,
    coverageTodayPct: 99.5,
  }],
  books: [{ market: "spot", symbol: "BTCUSDT", state: "synced", resyncs: 3 }],
  rest: [{ market: "spot", weightUsed: 45, weightLimit: 6000 }],
  clock: [{ source: "ntp", offsetMs: -12.5, atMs: 1_700_000_300_000 }],
  disk: { path: "/data", freeBytes: 1_000_000_000, totalBytes: 4_000_000_000 },
  journal: { unsyncedBytes: 4096, sinceFsyncMs: 500, errors: 0 },
  flushes: { durations: { bounds: [0.1, 1], counts: [2, 3], sum: 1.25, count: 4 }, failures: 1 },
};

const S = 'market="spot",symbol="BTCUSDT",stream="depth@100ms"';

const EXPECTED = `# HELP binance_collector_info Always 1; the version label names the running build.
# TYPE binance_collector_info gauge
binance_collector_info{version="1.2.3"} 1
# HELP binance_collector_start_time_seconds When the process started, seconds since the epoch.
# TYPE binance_collector_start_time_seconds gauge
binance_collector_start_time_seconds 1700000000
# HELP binance_collector_market_symbols Symbols recorded on the market.
# TYPE binance_collector_market_symbols gauge
binance_collector_market_symbols{market="spot"} 1
# HELP binance_collector_market_books Order books kept on the market.
# TYPE binance_collector_market_books gauge
binance_collector_market_books{market="spot"} 1
# HELP binance_collector_market_books_synced Order books of the market in sync with their diff stream.
# TYPE binance_collector_market_books_synced gauge
binance_collector_market_books_synced{market="spot"} 1
# HELP binance_collector_market_streams Streams of the market, per stream kind.
# TYPE binance_collector_market_streams gauge
binance_collector_market_streams{market="spot",stream="depth@100ms"} 1
# HELP binance_collector_market_streams_connected Streams whose connection is open and subscribed, per market and stream kind.
# TYPE binance_collector_market_streams_connected gauge
binance_collector_market_streams_connected{market="spot",stream="depth@100ms"} 1
# HELP binance_collector_market_streams_stale Streams silent for longer than their liveness threshold, per market and stream kind.
# TYPE binance_collector_market_streams_stale gauge
binance_collector_market_streams_stale{market="spot",stream="depth@100ms"} 0
# HELP binance_collector_market_messages_total Frames received since the process started, per market and stream kind.
# TYPE binance_collector_market_messages_total counter
binance_collector_market_messages_total{market="spot",stream="depth@100ms"} 1234
# HELP binance_collector_market_bytes_total Bytes of frames received since the process started, per market and stream kind.
# TYPE binance_collector_market_bytes_total counter
binance_collector_market_bytes_total{market="spot",stream="depth@100ms"} 56789
# HELP binance_collector_market_gaps_today Gaps in the ledger for the current UTC day, per market and stream kind.
# TYPE binance_collector_market_gaps_today gauge
binance_collector_market_gaps_today{market="spot",stream="depth@100ms"} 2
# HELP binance_collector_stream_messages_total Frames received since the process started.
# TYPE binance_collector_stream_messages_total counter
binance_collector_stream_messages_total{${S}} 1234
# HELP binance_collector_stream_bytes_total Bytes of frames received since the process started.
# TYPE binance_collector_stream_bytes_total counter
binance_collector_stream_bytes_total{${S}} 56789
# HELP binance_collector_stream_connected 1 while the connection carrying the stream is open and subscribed.
# TYPE binance_collector_stream_connected gauge
binance_collector_stream_connected{${S}} 1
# HELP binance_collector_stream_stale 1 while the stream is silent for longer than its liveness threshold.
# TYPE binance_collector_stream_stale gauge
binance_collector_stream_stale{${S}} 0
# HELP binance_collector_stream_last_message_age_seconds Seconds since the stream's last frame (absent before the first).
# TYPE binance_collector_stream_last_message_age_seconds gauge
binance_collector_stream_last_message_age_seconds{${S}} 0.25
# HELP binance_collector_stream_gaps_total Gaps written since the process started.
# TYPE binance_collector_stream_gaps_total counter
binance_collector_stream_gaps_total{${S}} 1
# HELP binance_collector_stream_gaps_today Gaps in the ledger for the current UTC day.
# TYPE binance_collector_stream_gaps_today gauge
binance_collector_stream_gaps_today{${S}} 2
# HELP binance_collector_stream_coverage_today_ratio Covered share of the current UTC day's observed time, from the ledger.
# TYPE binance_collector_stream_coverage_today_ratio gauge
binance_collector_stream_coverage_today_ratio{${S}} 0.995
# HELP binance_collector_book_synced 1 while the order book is in sync with the diff stream.
# TYPE binance_collector_book_synced gauge
binance_collector_book_synced{market="spot",symbol="BTCUSDT"} 1
# HELP binance_collector_book_resyncs_total Order book rebuilds from a new REST snapshot since the process started.
# TYPE binance_collector_book_resyncs_total counter
binance_collector_book_resyncs_total{market="spot",symbol="BTCUSDT"} 3
# HELP binance_collector_flush_duration_seconds Duration of completed Parquet flushes.
# TYPE binance_collector_flush_duration_seconds histogram
binance_collector_flush_duration_seconds_bucket{le="0.1"} 2
binance_collector_flush_duration_seconds_bucket{le="1"} 3
binance_collector_flush_duration_seconds_bucket{le="+Inf"} 4
binance_collector_flush_duration_seconds_sum 1.25
binance_collector_flush_duration_seconds_count 4
# HELP binance_collector_flush_failures_total Parquet flushes that failed.
# TYPE binance_collector_flush_failures_total counter
binance_collector_flush_failures_total 1
# HELP binance_collector_journal_unsynced_bytes Journal bytes appended but not yet fsynced.
# TYPE binance_collector_journal_unsynced_bytes gauge
binance_collector_journal_unsynced_bytes 4096
# HELP binance_collector_journal_seconds_since_fsync Seconds since the journal's last completed fsync (absent before the first).
# TYPE binance_collector_journal_seconds_since_fsync gauge
binance_collector_journal_seconds_since_fsync 0.5
# HELP binance_collector_journal_errors_total Records the journal could not take.
# TYPE binance_collector_journal_errors_total counter
binance_collector_journal_errors_total 0
# HELP binance_collector_clock_offset_seconds Latest reference clock minus local clock, per source.
# TYPE binance_collector_clock_offset_seconds gauge
binance_collector_clock_offset_seconds{source="ntp"} -0.0125
# HELP binance_collector_rest_weight_used REST request weight used in the current minute.
# TYPE binance_collector_rest_weight_used gauge
binance_collector_rest_weight_used{market="spot"} 45
# HELP binance_collector_rest_weight_limit REST request weight allowed per minute.
# TYPE binance_collector_rest_weight_limit gauge
binance_collector_rest_weight_limit{market="spot"} 6000
# HELP binance_collector_disk_free_bytes Free bytes on the data directory's file system.
# TYPE binance_collector_disk_free_bytes gauge
binance_collector_disk_free_bytes{path="/data"} 1000000000
# HELP binance_collector_disk_total_bytes Size of the data directory's file system.
# TYPE binance_collector_disk_total_bytes gauge
binance_collector_disk_total_bytes{path="/data"} 4000000000
`;

Deno.test("renderMetrics() renders a snapshot as exact Prometheus text", () => {
  assert.equal(renderMetrics(BASE), EXPECTED);
});

/** The sample lines (no HELP/TYPE) of one family, by exact metric name or `name_` suffixes. */
function samples(text: string, name: string): string[] {
  const full = `binance_collector_${name}`;
  return text.split("\n").filter((l) => l.startsWith(`${full}{`) || l.startsWith(`${full} `));
}

const STREAM = BASE.streams[0]!;
const BOOK = BASE.books[0]!;

const CASES: { name: string; snapshot: StatusSnapshot; family: string; lines: string[] }[] = [
  {
    name: "a stream before its first frame has no age sample",
    snapshot: { ...BASE, streams: [{ ...STREAM, lastMessageAgeMs: null }] },
    family: "stream_last_message_age_seconds",
    lines: [],
  },
  {
    name: "a day without ledger hours has no coverage sample",
    snapshot: { ...BASE, streams: [{ ...STREAM, coverageTodayPct: null }] },
    family: "stream_coverage_today_ratio",
    lines: [],
  },
  {
    name: "a disconnected stream reads 0",
    snapshot: { ...BASE, streams: [{ ...STREAM, connected: false }] },
    family: "stream_connected",
    lines: [`binance_collector_stream_connected{${S}} 0`],
  },
  {
    name: "a stale stream reads 1",
    snapshot: { ...BASE, streams: [{ ...STREAM, stale: true }] },
    family: "stream_stale",
    lines: [`binance_collector_stream_stale{${S}} 1`],
  },
  {
    name: "a buffering book is not synced",
    snapshot: { ...BASE, books: [{ ...BOOK, state: "buffering" }] },
    family: "book_synced",
    lines: ['binance_collector_book_synced{market="spot",symbol="BTCUSDT"} 0'],
  },
  {
    name: "one sample per stream, in snapshot order",
    snapshot: {
      ...BASE,
      streams: [STREAM, { ...STREAM, market: "usdm", stream: "markPrice@1s", messages: 7 }],
    },
    family: "stream_messages_total",
    lines: [
      `binance_collector_stream_messages_total{${S}} 1234`,
      'binance_collector_stream_messages_total{market="usdm",symbol="BTCUSDT",stream="markPrice@1s"} 7',
    ],
  },
  {
    name: "a label with quote, backslash and line feed is escaped",
    snapshot: { ...BASE, disk: { path: 'C:\\data "x"\nend', freeBytes: 5, totalBytes: 9 } },
    family: "disk_free_bytes",
    lines: ['binance_collector_disk_free_bytes{path="C:\\\\data \\"x\\"\\nend"} 5'],
  },
  {
    name: "no disk figures when free space is unknown",
    snapshot: { ...BASE, disk: null },
    family: "disk_total_bytes",
    lines: [],
  },
  {
    name: "no journal fsync age before the first fsync",
    snapshot: { ...BASE, journal: { ...BASE.journal, sinceFsyncMs: null } },
    family: "journal_seconds_since_fsync",
    lines: [],
  },
  {
    name: "one clock sample per source",
    snapshot: {
      ...BASE,
      clock: [...BASE.clock, { source: "binance-usdm", offsetMs: 3, atMs: 0 }],
    },
    family: "clock_offset_seconds",
    lines: [
      'binance_collector_clock_offset_seconds{source="ntp"} -0.0125',
      'binance_collector_clock_offset_seconds{source="binance-usdm"} 0.003',
    ],
  },
  {
    name: "an empty histogram still has its +Inf bucket, sum and count",
    snapshot: {
      ...BASE,
      flushes: { durations: { bounds: [0.5], counts: [0], sum: 0, count: 0 }, failures: 0 },
    },
    family: "flush_duration_seconds_bucket",
    lines: [
      'binance_collector_flush_duration_seconds_bucket{le="0.5"} 0',
      'binance_collector_flush_duration_seconds_bucket{le="+Inf"} 0',
    ],
  },
];

for (const c of CASES) {
  Deno.test(`renderMetrics(): ${c.name}`, () => {
    const text = renderMetrics(c.snapshot);
    assert.deepEqual(samples(text, c.family), c.lines);
    // HELP and TYPE stay even when a family has no sample.
    assert.match(text, new RegExp(`^# TYPE binance_collector_${c.family.replace(/_bucket$/, "")} `, "m"));
  });
}

Deno.test("renderMetrics() output is well-formed: every sample belongs to the family declared before it", () => {
  const text = renderMetrics(BASE);
  assert.ok(text.endsWith("\n"));
  let family = "";
  for (const line of text.trimEnd().split("\n")) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      family = type[1]!;
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    assert.match(line, /^[a-z_]+(\{[a-z]+="(?:[^"\\]|\\.)*"(,[a-z]+="(?:[^"\\]|\\.)*")*\})? \S+$/, line);
    assert.ok(line.startsWith(family), `${line} is outside ${family}`);
  }
});

Deno.test("escapeLabelValue() escapes backslash, quote and line feed only", () => {
  const table: [string, string][] = [
    ["plain", "plain"],
    ['a"b', 'a\\"b'],
    ["a\\b", "a\\\\b"],
    ["a\nb", "a\\nb"],
    ["tab\tstays", "tab\tstays"],
    ["\\n", "\\\\n"],
  ];
  for (const [input, want] of table) assert.equal(escapeLabelValue(input), want, JSON.stringify(input));
});

Deno.test("formatValue() spells infinities and NaN as Prometheus does", () => {
  const table: [number, string][] = [
    [0, "0"],
    [-0.0125, "-0.0125"],
    [1e21, "1e+21"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [NaN, "NaN"],
  ];
  for (const [input, want] of table) assert.equal(formatValue(input), want);
});

Deno.test("renderMetrics() totals the whole market per market and stream kind, beside every stream's series", () => {
  const text = renderMetrics(fakeMarketSnapshot(1500, 500));
  assert.deepEqual(samples(text, "market_symbols"), [
    'binance_collector_market_symbols{market="spot"} 1500',
    'binance_collector_market_symbols{market="usdm"} 500',
  ]);
  assert.deepEqual(samples(text, "market_books_synced"), [
    'binance_collector_market_books_synced{market="spot"} 1500',
    'binance_collector_market_books_synced{market="usdm"} 499',
  ]);
  // spot S7USDT is down (4 streams), S11USDT's aggTrade is stale.
  assert.ok(
    samples(text, "market_streams_connected").includes(
      'binance_collector_market_streams_connected{market="spot",stream="aggTrade"} 1499',
    ),
  );
  assert.ok(
    samples(text, "market_streams_stale").includes(
      'binance_collector_market_streams_stale{market="spot",stream="aggTrade"} 1',
    ),
  );
  assert.equal(samples(text, "market_streams").length, 4 + 6);
  assert.equal(samples(text, "stream_messages_total").length, 1500 * 4 + 500 * 6);
  assert.ok(
    samples(text, "stream_connected").includes(
      'binance_collector_stream_connected{market="spot",symbol="S7USDT",stream="bookTicker"} 0',
    ),
  );
});

Deno.test("renderMetrics() without per-symbol series: the same text less the stream_* and book_* families", () => {
  const snapshot = fakeMarketSnapshot(1500, 500);
  const full = renderMetrics(snapshot);
  const totals = renderMetrics(snapshot, { perSymbol: false });
  // The full text's families, each from its HELP line to the next, less the per-symbol ones.
  const families = full.split(/(?=^# HELP )/m);
  const perSymbol = families.filter((f) => /^# HELP binance_collector_(stream|book)_/.test(f));
  assert.equal(perSymbol.length, 8 + 2);
  assert.equal(totals, families.filter((f) => !perSymbol.includes(f)).join(""));
  assert.doesNotMatch(totals, /symbol="/);
  assert.equal(samples(totals, "market_streams").length, 4 + 6);
  assert.ok(totals.length < full.length / 100, `${totals.length} bytes against ${full.length}`);
});
