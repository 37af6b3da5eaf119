/**
 * config.yaml: parsed once at start, validated strictly, resolved into a frozen {@link Config}.
 *
 * The schema is the table {@link SCHEMA} below (key → reader, default); docs/config.md documents every key.
 * Unknown keys, wrong types and bad values fail with the file line and the dotted key path. Secrets never live
 * here: the Telegram bot token comes from the TELEGRAM_BOT_TOKEN environment variable, read by main.ts.
 */
import { isScalar, LineCounter, parseDocument } from "yaml";
import { DEFAULT_REST_URLS, DEFAULT_WS_URLS, depthLimitFor } from "./binance/endpoints.ts";
import { type Market, MARKETS } from "./binance/types.ts";
import {
  boolean,
  ConfigError,
  Cursor,
  defaultsOf,
  field,
  integer,
  list,
  oneOrList,
  optional,
  type Reader,
  refine,
  section,
  type Source,
  text,
  type Values,
} from "./config/reader.ts";
import { DEFAULT_STREAMS, exclusiveGroup, streamProblem } from "./config/streams.ts";

export { ConfigError } from "./config/reader.ts";

/** One market's resolved settings. */
export interface MarketConfig {
  readonly market: Market;
  readonly enabled: boolean;
  /** REST base URL, no trailing slash. */
  readonly restUrl: string;
  /** WebSocket base URL, no trailing slash (USD-M adds `/public` or `/market`). */
  readonly wsUrl: string;
  readonly symbols: readonly string[];
  /** Stream kinds per symbol, e.g. `depth@100ms`, `kline_1m`. */
  readonly streams: readonly string[];
  /** REST depth snapshot `limit` valid on this market. */
  readonly depthLimit: number;
}

/** The whole resolved configuration (frozen; defaults applied). */
export interface Config {
  readonly symbols: readonly string[];
  readonly flushIntervalSec: number;
  readonly dataDir: string;
  readonly logDir: string;
  readonly maxBufferMb: number;
  readonly orderbookDepth: number;
  readonly orderbookTopLevels: number;
  /** Whether USD-M is recorded (same as `markets.usdm.enabled`). */
  readonly useFutures: boolean;
  /** rclone remote name; empty = no upload. */
  readonly cloudRemote: string;
  readonly cloudPath: string;
  readonly cleanupDays: number;
  /** Telegram chats for reports and alerts; empty = none. */
  readonly telegramChatIds: readonly string[];
  readonly connectionLifetimeSec: number;
  readonly markets: Readonly<Record<Market, MarketConfig>>;
  /** Deno KV ledger: a file path, or an `http(s)://` KV URL (with `DENO_KV_ACCESS_TOKEN` in the env). */
  readonly kvPath: string;
  /** Keep journal segments as compressed raw archives instead of deleting them once committed. */
  readonly keepRaw: boolean;
  /** NTP server (`host:port`) for clock checks. */
  readonly ntpServer: string;
  /** Clock offset (NTP or Binance) that raises an alert. */
  readonly clockOffsetAlertMs: number;
  /** Free disk below this raises an alert; below `diskMinMb` the collector refuses to start writing. */
  readonly diskLowMb: number;
  readonly diskMinMb: number;
  readonly telegram: { readonly apiRoot: string; readonly dailyReportAt: string };
  /** Status page and metrics HTTP server. */
  readonly status: { readonly enabled: boolean; readonly hostname: string; readonly port: number };
}

/** Upper-case Binance symbol; letters of any script (Binance lists e.g. `测试USDT`), digits, `_`, `-`, `.`. */
const symbol: Reader<string> = refine(text({ nonEmpty: true }), (s, at) => {
  if (s !== s.toUpperCase()) return at.fail(`symbol "${s}" must be upper case: write "${s.toUpperCase()}"`);
  if (!/^[\p{L}\p{N}_.-]+$/u.test(s)) return at.fail(`symbol "${s}" may contain only letters, digits, _ - .`);
  return s;
});

const symbols = list(symbol, { nonEmpty: true, unique: true });

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
    streams: optional(streams(market)),
  };
}

const MARKET_SECTIONS = { spot: marketFields("spot"), usdm: marketFields("usdm") };
const MARKETS_FIELDS = {
  spot: field(section(MARKET_SECTIONS.spot), defaultsOf(MARKET_SECTIONS.spot), { nullable: true }),
  usdm: field(section(MARKET_SECTIONS.usdm), defaultsOf(MARKET_SECTIONS.usdm), { nullable: true }),
};

/** `HH:MM` (UTC). */
const utcTime: Reader<string> = refine(text({ nonEmpty: true }), (s, at) => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  return m ? s : at.fail(`"${s}" is not a UTC time of day like "00:05"`);
});

const TELEGRAM_FIELDS = {
  api_root: field(url(["https:", "http:"]), "https://api.telegram.org"),
  daily_report_at: field(utcTime, "00:05"),
};

const STATUS_FIELDS = {
  enabled: field(boolean, true),
  hostname: field(text({ nonEmpty: true }), "127.0.0.1"),
  port: field(integer({ min: 0, max: 65_535 }), 8377),
};

/** Every top-level key: how it is read and its default. */
const SCHEMA = {
  symbols: field(symbols, ["BTCUSDT", "ETHUSDT"]),
  flush_interval: field(integer({ min: 1 }), 60),
  data_dir: field(text({ nonEmpty: true }), "data"),
  log_dir: field(text({ nonEmpty: true }), "logs"),
  max_buffer_mb: field(integer({ min: 1 }), 256),
  orderbook_depth: field(integer({ min: 5, max: 5000 }), 1000),
  orderbook_top_levels: field(integer({ min: 1, max: 1000 }), 20),
  use_futures: optional(boolean),
  cloud_remote: field(text(), "", { nullable: true }),
  cloud_path: field(text(), "binance-data", { nullable: true }),
  cleanup_days: field(integer({ min: 0 }), 7),
  telegram_chat_id: field(oneOrList(chatId), [] as string[], { nullable: true }),
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
};

type Raw = Values<typeof SCHEMA>;

/** Applies cross-key rules and defaults that depend on other keys. */
function resolve(raw: Raw, src: Source): Config {
  const failAt = (path: string, detail: string): never => {
    throw new ConfigError(src.file, src.keyLines.get(path) ?? null, path, detail);
  };
  const usdmEnabled = raw.markets.usdm.enabled;
  if (raw.use_futures !== undefined && usdmEnabled !== undefined && raw.use_futures !== usdmEnabled) {
    failAt(
      "markets.usdm.enabled",
      `${usdmEnabled} conflicts with use_futures: ${raw.use_futures} (line ${
        src.keyLines.get("use_futures")
      }); set only one of them`,
    );
  }
  const useFutures = raw.use_futures ?? usdmEnabled ?? true;
  const markets = {} as Record<Market, MarketConfig>;
  for (const m of MARKETS) {
    const r = raw.markets[m];
    markets[m] = {
      market: m,
      enabled: m === "usdm" ? useFutures : r.enabled ?? true,
      restUrl: r.rest_url ?? DEFAULT_REST_URLS[m],
      wsUrl: r.ws_url ?? DEFAULT_WS_URLS[m],
      symbols: r.symbols ?? raw.symbols,
      streams: r.streams ?? DEFAULT_STREAMS[m],
      // orderbook_depth is within [5, 5000], so every market has a valid limit at or below it.
      depthLimit: depthLimitFor(m, raw.orderbook_depth)!,
    };
  }
  if (!MARKETS.some((m) => markets[m].enabled)) {
    failAt(
      src.keyLines.has("markets.spot.enabled") ? "markets.spot.enabled" : "use_futures",
      "no market is enabled",
    );
  }
  return {
    symbols: raw.symbols,
    flushIntervalSec: raw.flush_interval,
    dataDir: raw.data_dir,
    logDir: raw.log_dir,
    maxBufferMb: raw.max_buffer_mb,
    orderbookDepth: raw.orderbook_depth,
    orderbookTopLevels: raw.orderbook_top_levels,
    useFutures,
    cloudRemote: raw.cloud_remote,
    cloudPath: raw.cloud_path,
    cleanupDays: raw.cleanup_days,
    telegramChatIds: raw.telegram_chat_id,
    connectionLifetimeSec: raw.connection_lifetime,
    markets,
    kvPath: raw.kv_path ?? `${raw.data_dir}/_state/ledger.sqlite`,
    keepRaw: raw.keep_raw,
    ntpServer: raw.ntp_server,
    clockOffsetAlertMs: raw.clock_offset_alert_ms,
    diskLowMb: raw.disk_low_mb,
    diskMinMb: raw.disk_min_mb,
    telegram: { apiRoot: raw.telegram.api_root, dailyReportAt: raw.telegram.daily_report_at },
    status: { enabled: raw.status.enabled, hostname: raw.status.hostname, port: raw.status.port },
  };
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

/**
 * Parses and validates the text of a config file; `fileName` only labels error messages. Pure.
 *
 * @example
 * ```ts
 * parseConfig("symbols: [SOLUSDT]\nuse_futures: false\n", "config.yaml").markets.spot.symbols; // ["SOLUSDT"]
 * ```
 */
export function parseConfig(text: string, fileName: string): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const err = doc.errors[0];
  if (err) {
    // The message's first line, without the position that ConfigError already shows.
    const what = err.message.split("\n", 1)[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new ConfigError(fileName, err.linePos?.[0].line ?? null, null, `invalid YAML: ${what}`);
  }
  const src: Source = { file: fileName, doc, lines, keyLines: new Map() };
  // An empty file (or one with every key commented out) means all defaults.
  const raw = doc.contents === null ? defaultsOf(SCHEMA) : section(SCHEMA)(new Cursor(src, "", doc.contents));
  // Copies the default arrays so freezing the result cannot freeze the schema's shared defaults.
  return deepFreeze(structuredClone(resolve(raw, src)));
}

/** Reads and parses the config file at `path`; a missing file is an error, never silent defaults. */
export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : `cannot read: ${(e as Error).message}`;
    throw new ConfigError(path, null, null, why);
  }
  return parseConfig(text, path);
}

/** For main.ts: {@link loadConfig}, or print `config error: <message>` to stderr and exit with code 2. */
export async function loadConfigOrExit(path: string): Promise<Config> {
  try {
    return await loadConfig(path);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`config error: ${e.message}`);
    Deno.exit(2);
  }
}
