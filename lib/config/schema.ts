/**
 * The schema of config.yaml: every key with its reader (type, range, pattern) and default, as the table
 * {@link SCHEMA} that lib/config.ts reads a file with (docs/config.md documents every key).
 * @module
 */

import { isScalar } from "yaml";
import type { Market } from "../binance/types.ts";
import type { SymbolFilter } from "../binance/universe.ts";
import {
  boolean,
  defaultsOf,
  field,
  integer,
  list,
  number,
  oneOrList,
  optional,
  type Reader,
  refine,
  section,
  text,
  type Values,
} from "./reader.ts";
import { exclusiveGroup, streamProblem } from "./streams.ts";

/**
 * A Binance symbol, upper-cased as Binance spells it (the Python collector's files list `btcusdt`); letters of
 * any script (Binance lists e.g. `测试USDT`), digits, `_`, `-`, `.`.
 */
const symbol: Reader<string> = refine(text({ nonEmpty: true }), (s, at) => {
  if (!/^[\p{L}\p{N}_.-]+$/u.test(s)) return at.fail(`symbol "${s}" may contain only letters, digits, _ - .`);
  return s.toUpperCase();
});

const symbolList = list(symbol, { nonEmpty: true, unique: true });

/** A list of symbols, or `all` (every symbol the market trades, see {@link SymbolFilter}). */
const symbols: Reader<string[] | "all"> = (at) =>
  isScalar(at.node) && typeof at.node.value === "string" && at.node.value.toLowerCase() === "all"
    ? "all"
    : symbolList(at);

/** A quote asset: upper-cased, letters and digits. */
const asset: Reader<string> = refine(
  text({ nonEmpty: true }),
  (s, at) =>
    /^[\p{L}\p{N}]+$/u.test(s)
      ? s.toUpperCase()
      : at.fail(`asset "${s}" may contain only letters and digits`),
);

const FILTER_FIELDS = {
  quote_assets: field(list(asset, { unique: true }), [] as string[], { nullable: true }),
  include: field(list(symbol, { unique: true }), [] as string[], { nullable: true }),
  exclude: field(list(symbol, { unique: true }), [] as string[], { nullable: true }),
  min_quote_volume: field(number({ min: 0 }), 0),
  refresh_interval: field(integer({ min: 10, max: 86_400 }), 300),
};

/** An absolute URL with one of `schemes`, no query, fragment or credentials; a trailing slash is stripped. */
function url(schemes: readonly string[]): Reader<string> {
  return refine(text({ nonEmpty: true }), (s, at) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return at.fail(`"${s}" is not a URL`);
    }
    const wanted = schemes.map((p) => `${p}//`).join(" or ");
    if (!schemes.includes(u.protocol)) return at.fail(`"${s}" must start with ${wanted}`);
    if (u.username || u.password) return at.fail("credentials do not belong in config.yaml");
    if (u.search || u.hash) return at.fail(`"${s}" must not have a query or fragment`);
    return s.replace(/\/+$/, "");
  });
}

/** Telegram chat id: an integer (negative for groups) or `@channelname`. */
const chatId: Reader<string> = (at) => {
  const id = isScalar(at.node) && typeof at.node.value === "number"
    ? String(integer()(at))
    : text({ nonEmpty: true })(at);
  if (!/^-?\d+$|^@\w+$/.test(id)) {
    return at.fail(`"${id}" is not a Telegram chat id (an integer or @channel)`);
  }
  return id;
};

/** Chat ids; `""` (the Python collector's "none") means none. */
const chatIds: Reader<string[]> = (at) =>
  isScalar(at.node) && at.node.value === "" ? [] : oneOrList(chatId)(at);

/** The bot token as written; `""` means none. Never echoed in a message: it is a secret. */
const botToken: Reader<string> = (at) => {
  const v = isScalar(at.node) ? at.node.value : undefined;
  return typeof v === "string"
    ? v.trim()
    : at.fail("expected a string (the value is not shown: it is a secret)");
};

function streams(market: Market): Reader<string[]> {
  const stream = refine(text({ nonEmpty: true }), (s, at) => {
    const problem = streamProblem(market, s);
    return problem === null ? s : at.fail(problem);
  });
  return refine(list(stream, { nonEmpty: true, unique: true }), (kinds, at) => {
    const seen = new Map<string, string>();
    for (const s of kinds) {
      const group = exclusiveGroup(s);
      if (group === null) continue;
      const other = seen.get(group);
      if (other !== undefined) return at.fail(`"${other}" and "${s}" both record ${group}: keep one`);
      seen.set(group, s);
    }
    return kinds;
  });
}

function marketFields(market: Market) {
  return {
    enabled: optional(boolean),
    rest_url: optional(url(["https:", "http:"])),
    ws_url: optional(url(["wss:", "ws:"])),
    symbols: optional(symbols),
    symbol_filter: optional(section(FILTER_FIELDS)),
    streams: optional(streams(market)),
  };
}

const MARKET_SECTIONS = {
  spot: marketFields("spot"),
  usdm: marketFields("usdm"),
  coinm: marketFields("coinm"),
};
const MARKETS_FIELDS = {
  spot: field(section(MARKET_SECTIONS.spot), defaultsOf(MARKET_SECTIONS.spot), { nullable: true }),
  usdm: field(section(MARKET_SECTIONS.usdm), defaultsOf(MARKET_SECTIONS.usdm), { nullable: true }),
  coinm: field(section(MARKET_SECTIONS.coinm), defaultsOf(MARKET_SECTIONS.coinm), { nullable: true }),
};

/** `HH:MM` (UTC). */
const utcTime: Reader<string> = refine(text({ nonEmpty: true }), (s, at) => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  return m ? s : at.fail(`"${s}" is not a UTC time of day like "00:05"`);
});

const TELEGRAM_FIELDS = {
  api_root: field(url(["https:", "http:"]), "https://api.telegram.org"),
  daily_report_at: field(utcTime, "00:05"),
  // Unset or empty: 180 s when a chat is configured (see resolve), as the Python collector's 3-minute ticker.
  ticker_interval: field<number | undefined>(integer({ min: 0, max: 86_400 }), undefined, { nullable: true }),
  flush_report: field(boolean, false),
};

const SHARD_FIELDS = {
  // Or COLLECTOR_SHARD_INDEX (one file for every shard); never defaulted: two shards 0 would record twice.
  index: optional(integer({ min: 0 })),
  count: field(integer({ min: 1, max: 1000 }), 1),
  replicas: field(integer({ min: 1 }), 1),
  // In file names and ledger keys.
  name: optional(
    refine(
      text({ nonEmpty: true }),
      (s, at) =>
        /^[a-z0-9][a-z0-9-]{0,31}$/.test(s)
          ? s
          : at.fail(`"${s}" may contain only a-z, 0-9 and - (at most 32, not starting with -)`),
    ),
  ),
};

const STATUS_FIELDS = {
  enabled: field(boolean, true),
  hostname: field(text({ nonEmpty: true }), "127.0.0.1"),
  port: field(integer({ min: 0, max: 65_535 }), 8377),
  metrics_per_symbol: field(boolean, true),
};

/** Every top-level key: how it is read and its default. */
export const SCHEMA = {
  symbols: field(symbols, ["BTCUSDT", "ETHUSDT"] as string[] | "all"),
  symbol_filter: field(section(FILTER_FIELDS), defaultsOf(FILTER_FIELDS), { nullable: true }),
  flush_interval: field(integer({ min: 1 }), 60),
  data_dir: field(text({ nonEmpty: true }), "data"),
  log_dir: field(text({ nonEmpty: true }), "logs"),
  log_retention_days: field(integer({ min: 0 }), 14),
  max_buffer_mb: field(integer({ min: 1 }), 256),
  orderbook_depth: field(integer({ min: 5, max: 5000 }), 1000),
  orderbook_top_levels: field(integer({ min: 1, max: 1000 }), 20),
  use_futures: optional(boolean),
  cloud_remote: field(text(), "", { nullable: true }),
  cloud_path: field(text(), "binance-data", { nullable: true }),
  cleanup_days: field(integer({ min: 0 }), 7),
  telegram_chat_id: field(chatIds, [] as string[], { nullable: true }),
  // The Python collector's key; see lib/config/telegram_token.ts for when the file may hold it.
  telegram_bot_token: field(botToken, "", { nullable: true }),
  // Binance closes connections at 24 h; rotating earlier avoids the forced disconnect.
  connection_lifetime: field(integer({ min: 1, max: 86_400 }), 85_800),
  markets: field(section(MARKETS_FIELDS), defaultsOf(MARKETS_FIELDS), { nullable: true }),
  kv_path: optional(text({ nonEmpty: true })),
  keep_raw: field(boolean, false),
  ntp_server: field(text({ nonEmpty: true }), "pool.ntp.org:123"),
  clock_offset_alert_ms: field(integer({ min: 1 }), 100),
  disk_low_mb: field(integer({ min: 0 }), 5120),
  disk_min_mb: field(integer({ min: 0 }), 512),
  telegram: field(section(TELEGRAM_FIELDS), defaultsOf(TELEGRAM_FIELDS), { nullable: true }),
  status: field(section(STATUS_FIELDS), defaultsOf(STATUS_FIELDS), { nullable: true }),
  shard: optional(section(SHARD_FIELDS)),
};

export type Raw = Values<typeof SCHEMA>;

export function symbolsOf(v: string[] | "all"): string[] {
  return v === "all" ? [] : v;
}

export function filterOf(f: Values<typeof FILTER_FIELDS>): SymbolFilter {
  return {
    quoteAssets: f.quote_assets,
    include: f.include,
    exclude: f.exclude,
    minQuoteVolume: f.min_quote_volume,
    refreshSec: f.refresh_interval,
  };
}
