/**
 * `/metrics`: a {@link StatusSnapshot} in the Prometheus text exposition format (version 0.0.4). Pure.
 *
 * Every family is written with its HELP and TYPE lines even when it has no samples, so dashboards can be built
 * before the first gap or clock measurement. Units follow Prometheus habits: seconds, bytes, ratios in [0, 1].
 *
 * With the whole market (2,000 symbols, 9,000 streams) the per symbol-stream families are most of the text
 * (about 7 MB; the server sends it gzip-compressed when the scraper asks, as Prometheus does, and renders it
 * while sending, {@linkcode metricsPieces}): each stream's label set is escaped once per scrape. The `market_*`
 * families total them per market and stream kind, for dashboards and alerts that need no per-symbol detail.
 * @module
 */

import type { HistogramSnapshot } from "./histogram.ts";
import { type KindTotal, kindTotals, type Labels, type MarketTotal, marketTotals } from "./metric_totals.ts";
import type { StatusSnapshot, StreamStatus } from "./snapshot.ts";

/** The `Content-Type` of {@link renderMetrics}' output. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const PREFIX = "binance_collector_";

type Sample = readonly [labels: Labels, value: number];

/**
 * Escapes a label value: backslash, double quote and line feed, as the exposition format requires.
 *
 * @example
 * ```ts
 * escapeLabelValue('a"b\\c\nd'); // 'a\\"b\\\\c\\nd'
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Escapes HELP text: backslash and line feed (quotes stay as they are there). */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/**
 * A sample value as Prometheus parses it (`NaN`, `+Inf`, `-Inf` spelled its way).
 *
 * @example
 * ```ts
 * formatValue(Infinity); // "+Inf"
 * formatValue(0.25); // "0.25"
 * ```
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}\n`;
}

function header(name: string, type: string, help: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

function family(name: string, type: "counter" | "gauge", help: string, samples: readonly Sample[]): string {
  const full = PREFIX + name;
  let out = header(full, type, help);
  for (const [labels, value] of samples) out += sampleLine(full, labels, value);
  return out;
}

function histogram(name: string, help: string, h: HistogramSnapshot): string {
  const full = PREFIX + name;
  let out = header(full, "histogram", help);
  for (let i = 0; i < h.bounds.length; i++) {
    out += sampleLine(`${full}_bucket`, { le: formatValue(h.bounds[i]!) }, h.counts[i] ?? 0);
  }
  out += sampleLine(`${full}_bucket`, { le: "+Inf" }, h.count);
  out += sampleLine(`${full}_sum`, {}, h.sum);
  out += sampleLine(`${full}_count`, {}, h.count);
  return out;
}

/** Streams whose lines make one piece of a per-stream family (see {@linkcode metricsPieces}). */
const STREAMS_PER_PIECE = 1000;

/**
 * One family with a sample per stream, a piece per {@link STREAMS_PER_PIECE} streams, from label sets rendered
 * once per scrape (`{market=…,…}`, `label(i)`).
 */
function* perStream(
  [name, type, help, value]: FamilySpec<StreamStatus, number | null>,
  streams: readonly StreamStatus[],
  label: (i: number) => string,
): Generator<string> {
  const full = PREFIX + name;
  yield header(full, type, help);
  for (let at = 0; at < streams.length; at += STREAMS_PER_PIECE) {
    const lines: string[] = [];
    for (let i = at; i < Math.min(streams.length, at + STREAMS_PER_PIECE); i++) {
      const v = value(streams[i]!);
      if (v !== null) lines.push(`${full}${label(i)} ${formatValue(v)}\n`);
    }
    yield lines.join("");
  }
}

const flag = (b: boolean): number => (b ? 1 : 0);

/** A family with a sample per item: name, type, help, and the item's value (null: no sample for it). */
type FamilySpec<T, V = number> = readonly [
  name: string,
  type: "counter" | "gauge",
  help: string,
  value: (item: T) => V,
];

/** The families totalling each market. */
const MARKET_FAMILIES: readonly FamilySpec<MarketTotal>[] = [
  ["market_symbols", "gauge", "Symbols recorded on the market.", (m) => m.symbols],
  ["market_books", "gauge", "Order books kept on the market.", (m) => m.books],
  [
    "market_books_synced",
    "gauge",
    "Order books of the market in sync with their diff stream.",
    (m) => m.synced,
  ],
];

/** The families totalling each (market, stream kind). */
const KIND_FAMILIES: readonly FamilySpec<KindTotal>[] = [
  ["market_streams", "gauge", "Streams of the market, per stream kind.", (k) => k.streams],
  [
    "market_streams_connected",
    "gauge",
    "Streams whose connection is open and subscribed, per market and stream kind.",
    (k) => k.connected,
  ],
  [
    "market_streams_stale",
    "gauge",
    "Streams silent for longer than their liveness threshold, per market and stream kind.",
    (k) => k.stale,
  ],
  [
    "market_messages_total",
    "counter",
    "Frames received since the process started, per market and stream kind.",
    (k) => k.messages,
  ],
  [
    "market_bytes_total",
    "counter",
    "Bytes of frames received since the process started, per market and stream kind.",
    (k) => k.bytes,
  ],
  [
    "market_gaps_today",
    "gauge",
    "Gaps in the ledger for the current UTC day, per market and stream kind.",
    (k) => k.gapsToday,
  ],
];

/** The families with a sample per stream. */
const STREAM_FAMILIES: readonly FamilySpec<StreamStatus, number | null>[] = [
  ["stream_messages_total", "counter", "Frames received since the process started.", (x) => x.messages],
  ["stream_bytes_total", "counter", "Bytes of frames received since the process started.", (x) => x.bytes],
  [
    "stream_connected",
    "gauge",
    "1 while the connection carrying the stream is open and subscribed.",
    (x) => flag(x.connected),
  ],
  [
    "stream_stale",
    "gauge",
    "1 while the stream is silent for longer than its liveness threshold.",
    (x) => flag(x.stale),
  ],
  [
    "stream_last_message_age_seconds",
    "gauge",
    "Seconds since the stream's last frame (absent before the first).",
    (x) => (x.lastMessageAgeMs === null ? null : x.lastMessageAgeMs / 1000),
  ],
  ["stream_gaps_total", "counter", "Gaps written since the process started.", (x) => x.gaps],
  ["stream_gaps_today", "gauge", "Gaps in the ledger for the current UTC day.", (x) => x.gapsToday],
  [
    "stream_coverage_today_ratio",
    "gauge",
    "Covered share of the current UTC day's observed time, from the ledger.",
    (x) => (x.coverageTodayPct === null ? null : x.coverageTodayPct / 100),
  ],
];

/**
 * Renders the snapshot as Prometheus text (the pieces of {@linkcode metricsPieces} joined).
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * import type { StatusSnapshot } from "./snapshot.ts";
 *
 * const nowMs = Date.now();
 * const snapshot: StatusSnapshot = {
 *   version: "0.4.0", startedAtMs: nowMs - 60_000, nowMs,
 *   streams: [{
 *     market: "spot", symbol: "BTCUSDT", stream: "aggTrade", connected: true, stale: false, messages: 1234,
 *     bytes: 250_000, msgsPerSec: 20, lastMessageAgeMs: 40, gaps: 0, gapsToday: 0, coverageTodayPct: 100,
 *   }],
 *   books: [{ market: "spot", symbol: "BTCUSDT", state: "buffering", resyncs: 0 }],
 *   rest: [{ market: "spot", weightUsed: 25, weightLimit: 6000 }],
 *   clock: [],
 *   disk: null,
 *   journal: { unsyncedBytes: 0, sinceFsyncMs: 120, errors: 0 },
 *   flushes: { durations: new Histogram([0.1, 1]).snapshot(), failures: 0 },
 * };
 *
 * const text = renderMetrics(snapshot);
 * text.split("\n").filter((l) => l.includes("stream_messages_total")).join("\n");
 * // # HELP binance_collector_stream_messages_total Frames received since the process started.
 * // # TYPE binance_collector_stream_messages_total counter
 * // binance_collector_stream_messages_total{market="spot",symbol="BTCUSDT",stream="aggTrade"} 1234
 * ```
 */
export function renderMetrics(s: StatusSnapshot, options?: MetricsOptions): string {
  return [...metricsPieces(s, options)].join("");
}

/** What `/metrics` includes. */
export interface MetricsOptions {
  /**
   * The families with a series per symbol-stream (`stream_*`) and per book (`book_*`); true by default. Without
   * them a whole market's text is ~10 KB (94 series) instead of ~7 MB (76,000): the `market_*` families still
   * total every market and stream kind.
   */
  perSymbol?: boolean;
}

/**
 * The Prometheus text of the snapshot in pieces of at most a family or {@link STREAMS_PER_PIECE} streams'
 * lines, in order: with the whole market the text is ~7 MB, rendered in 35–50 ms, which the status server
 * spreads over several event-loop turns (paced_body.ts).
 */
export function* metricsPieces(s: StatusSnapshot, options: MetricsOptions = {}): Generator<string> {
  const { streams, books } = s;
  const perSymbol = options.perSymbol ?? true;
  const bookLabels = (b: (typeof books)[number]): Labels => ({ market: b.market, symbol: b.symbol });
  const disk = s.disk;
  // Escaped as the first per-stream family reaches each stream, so no piece waits for all 9,000 at once.
  const labels: string[] = [];
  const label = (i: number): string => {
    const x = streams[i]!;
    return labels[i] ??= `{market="${escapeLabelValue(x.market)}",symbol="${
      escapeLabelValue(x.symbol)
    }",stream="${escapeLabelValue(x.stream)}"}`;
  };
  const kinds = kindTotals(streams);
  const markets = marketTotals(s);
  yield family("info", "gauge", "Always 1; the version label names the running build.", [[
    { version: s.version },
    1,
  ]]);
  yield family("start_time_seconds", "gauge", "When the process started, seconds since the epoch.", [
    [{}, s.startedAtMs / 1000],
  ]);
  for (const [name, type, help, value] of MARKET_FAMILIES) {
    yield family(name, type, help, markets.map((m) => [m.labels, value(m)]));
  }
  for (const [name, type, help, value] of KIND_FAMILIES) {
    yield family(name, type, help, kinds.map((k) => [k.labels, value(k)]));
  }
  if (perSymbol) {
    for (const f of STREAM_FAMILIES) yield* perStream(f, streams, label);
    yield family(
      "book_synced",
      "gauge",
      "1 while the order book is in sync with the diff stream.",
      books.map((b) => [bookLabels(b), flag(b.state === "synced")]),
    );
    yield family(
      "book_resyncs_total",
      "counter",
      "Order book rebuilds from a new REST snapshot since the process started.",
      books.map((b) => [bookLabels(b), b.resyncs]),
    );
  }
  yield histogram("flush_duration_seconds", "Duration of completed Parquet flushes.", s.flushes.durations);
  yield family("flush_failures_total", "counter", "Parquet flushes that failed.", [[{}, s.flushes.failures]]);
  yield family("journal_unsynced_bytes", "gauge", "Journal bytes appended but not yet fsynced.", [
    [{}, s.journal.unsyncedBytes],
  ]);
  yield family(
    "journal_seconds_since_fsync",
    "gauge",
    "Seconds since the journal's last completed fsync (absent before the first).",
    s.journal.sinceFsyncMs === null ? [] : [[{}, s.journal.sinceFsyncMs / 1000]],
  );
  yield family("journal_errors_total", "counter", "Records the journal could not take.", [[
    {},
    s.journal.errors,
  ]]);
  yield family(
    "clock_offset_seconds",
    "gauge",
    "Latest reference clock minus local clock, per source.",
    s.clock.map((c) => [{ source: c.source }, c.offsetMs / 1000]),
  );
  yield family(
    "rest_weight_used",
    "gauge",
    "REST request weight used in the current minute.",
    s.rest.map((r) => [{ market: r.market }, r.weightUsed]),
  );
  yield family(
    "rest_weight_limit",
    "gauge",
    "REST request weight allowed per minute.",
    s.rest.map((r) => [{ market: r.market }, r.weightLimit]),
  );
  yield family(
    "disk_free_bytes",
    "gauge",
    "Free bytes on the data directory's file system.",
    disk ? [[{ path: disk.path }, disk.freeBytes]] : [],
  );
  yield family(
    "disk_total_bytes",
    "gauge",
    "Size of the data directory's file system.",
    disk ? [[{ path: disk.path }, disk.totalBytes]] : [],
  );
}
