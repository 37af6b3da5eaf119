/**
 * config.yaml: parsed once at start, validated strictly, resolved into a frozen {@link Config}.
 *
 * The schema is the table {@link SCHEMA} below (key → reader, default); docs/config.md documents every key.
 * Unknown keys, wrong types and bad values fail with the file line and the dotted key path, all of a file's
 * problems at once. The files of the earlier Python collector load as they are (lower-case symbols, empty
 * strings for "none", `telegram_bot_token` in an owner-only file); the token is resolved with the environment
 * main.ts passes in (lib/config/telegram_token.ts) and kept in a {@link Secret} that never prints.
 */
import { isScalar, LineCounter, parseDocument } from "yaml";
import { depthLimitFor } from "./binance/endpoints.ts";
import { PROFILES } from "./binance/markets.ts";
import { type Market, MARKETS } from "./binance/types.ts";
import type { SymbolFilter } from "./binance/universe.ts";
import {
  boolean,
  ConfigError,
  Cursor,
  defaultsOf,
  field,
  integer,
  InvalidConfigError,
  list,
  number,
  oneOrList,
  optional,
  type Reader,
  recording,
  refine,
  section,
  type Source,
  text,
  type Values,
} from "./config/reader.ts";
import type { Secret } from "./config/secret.ts";
import { exclusiveGroup, streamProblem } from "./config/streams.ts";
import { resolveTelegramToken } from "./config/telegram_token.ts";
import type { Shard } from "./shard.ts";

export { ConfigError, InvalidConfigError } from "./config/reader.ts";
export type { SymbolFilter } from "./binance/universe.ts";
export { Secret } from "./config/secret.ts";

/** One market's resolved settings. */
export interface MarketConfig {
  readonly market: Market;
  readonly enabled: boolean;
  /** REST base URL, no trailing slash. */
  readonly restUrl: string;
  /** WebSocket base URL, no trailing slash (USD-M adds `/public` or `/market`). */
  readonly wsUrl: string;
  /** The symbols to record; empty with `all` (the collector reads them from exchangeInfo). */
  readonly symbols: readonly string[];
  /** Set with `symbols: all`: which of the market's symbols to record. */
  readonly all: SymbolFilter | null;
  /** Stream kinds per symbol, e.g. `depth@100ms`, `kline_1m`. */
  readonly streams: readonly string[];
  /** REST depth snapshot `limit` valid on this market. */
  readonly depthLimit: number;
}

/** The whole resolved configuration (frozen; defaults applied). */
export interface Config {
  /** The top-level `symbols` (a list, or `all` as an empty list: see each market's `all`). */
  readonly symbols: readonly string[];
  readonly flushIntervalSec: number;
  readonly dataDir: string;
  readonly logDir: string;
  /** Days the daily log files in `logDir` are kept; 0 = forever. */
  readonly logRetentionDays: number;
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
  /** The bot token (environment, else an owner-only config file); null = Telegram off. Prints as redacted. */
  readonly telegramToken: Secret | null;
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
  readonly telegram: {
    readonly apiRoot: string;
    readonly dailyReportAt: string;
    /** Seconds between live ticker messages; 0 = off (the default without a chat). */
    readonly tickerIntervalSec: number;
    /** A short table after each flush. */
    readonly flushReport: boolean;
  };
  /** Status page and metrics HTTP server. */
  readonly status: { readonly enabled: boolean; readonly hostname: string; readonly port: number };
  /** This collector's share of the symbols when several collectors split them; null = all of them. */
  readonly shard: Shard | null;
  /** Advice about the file for the start log, e.g. where the bot token should live. Never holds a secret. */
  readonly notices: readonly string[];
}

/**
 * What config loading reads besides the file: the environment (for `TELEGRAM_BOT_TOKEN`, and
 * `COLLECTOR_SHARD_INDEX`, which sets `shard.index`: a number, or a name ending in `-<number>` such as a
 * Kubernetes StatefulSet pod's).
 */
export interface ConfigEnv {
  get(name: string): string | undefined;
}

/** Context of {@link parseConfig}: the environment and the file's permission bits (null: not checked). */
export interface ParseContext {
  env?: ConfigEnv;
  fileMode?: number | null;
}

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
};

/** Every top-level key: how it is read and its default. */
const SCHEMA = {
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

type Raw = Values<typeof SCHEMA>;

/** `shard:` with `COLLECTOR_SHARD_INDEX` applied; problems recorded with `failAt`. */
function shardOf(
  raw: Raw["shard"],
  envIndex: string | undefined,
  failAt: (path: string, detail: string) => void,
): Shard | null {
  if (raw === undefined) {
    if (envIndex !== undefined) {
      failAt("shard", "COLLECTOR_SHARD_INDEX is set but config.yaml has no shard: section");
    }
    return null;
  }
  let index = raw.index ?? -1;
  if (envIndex === undefined && raw.index === undefined) {
    failAt("shard", "shard.index is required (or COLLECTOR_SHARD_INDEX in the environment)");
  }
  if (envIndex !== undefined) {
    const m = /^(?:.*-)?(\d+)$/.exec(envIndex.trim());
    if (m === null) {
      failAt(
        "shard.index",
        `COLLECTOR_SHARD_INDEX "${envIndex}" is not a number or a name ending in -<number>`,
      );
    } else index = Number(m[1]);
  }
  if (index >= raw.count) failAt("shard.index", `${index} must be below shard.count (${raw.count})`);
  if (raw.replicas > raw.count) {
    failAt("shard.replicas", `${raw.replicas} is more than shard.count (${raw.count})`);
  }
  return { index, count: raw.count, replicas: raw.replicas, name: raw.name ?? `s${index}` };
}

/** Applies cross-key rules and defaults that depend on other keys; a broken rule is recorded in `src`. */
function resolve(
  raw: Raw,
  src: Source,
  env: ConfigEnv | undefined,
): Omit<Config, "telegramToken" | "notices"> {
  const failAt = (path: string, detail: string): void => {
    src.problems.push(new ConfigError(src.file, src.keyLines.get(path) ?? null, path, detail));
  };
  const shard = shardOf(raw.shard, env?.get("COLLECTOR_SHARD_INDEX"), failAt);
  // `{shard}` in a path: several shards on one host keep their files apart.
  const place = (path: string) => path.replaceAll("{shard}", shard?.name ?? "main");
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
      // use_futures is the Python collector's switch for USD-M; COIN-M is off unless enabled.
      enabled: m === "usdm" ? useFutures : r.enabled ?? m === "spot",
      restUrl: r.rest_url ?? PROFILES[m].restUrl,
      wsUrl: r.ws_url ?? PROFILES[m].wsUrl,
      symbols: symbolsOf(r.symbols ?? raw.symbols),
      all: (r.symbols ?? raw.symbols) === "all" ? filterOf(r.symbol_filter ?? raw.symbol_filter) : null,
      streams: r.streams ?? PROFILES[m].defaultStreams,
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
  for (const m of MARKETS) {
    const r = raw.markets[m];
    if (r.symbol_filter !== undefined && (r.symbols ?? raw.symbols) !== "all") {
      failAt(`markets.${m}.symbol_filter`, `applies only with symbols: all`);
    }
  }
  if (src.keyLines.has("symbol_filter") && !MARKETS.some((m) => markets[m].all !== null)) {
    failAt("symbol_filter", "applies only with symbols: all");
  }
  return {
    symbols: symbolsOf(raw.symbols),
    flushIntervalSec: raw.flush_interval,
    dataDir: place(raw.data_dir),
    logDir: place(raw.log_dir),
    logRetentionDays: raw.log_retention_days,
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
    kvPath: place(raw.kv_path ?? `${raw.data_dir}/_state/ledger.sqlite`),
    keepRaw: raw.keep_raw,
    ntpServer: raw.ntp_server,
    clockOffsetAlertMs: raw.clock_offset_alert_ms,
    diskLowMb: raw.disk_low_mb,
    diskMinMb: raw.disk_min_mb,
    telegram: {
      apiRoot: raw.telegram.api_root,
      dailyReportAt: raw.telegram.daily_report_at,
      tickerIntervalSec: raw.telegram.ticker_interval ?? (raw.telegram_chat_id.length > 0 ? 180 : 0),
      flushReport: raw.telegram.flush_report,
    },
    status: { enabled: raw.status.enabled, hostname: raw.status.hostname, port: raw.status.port },
    shard,
  };
}

function symbolsOf(v: string[] | "all"): string[] {
  return v === "all" ? [] : v;
}

function filterOf(f: Values<typeof FILTER_FIELDS>): SymbolFilter {
  return {
    quoteAssets: f.quote_assets,
    include: f.include,
    exclude: f.exclude,
    minQuoteVolume: f.min_quote_volume,
    refreshSec: f.refresh_interval,
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
 * Parses and validates the text of a config file; `fileName` labels error messages. Pure apart from reading
 * `context.env`. Throws an {@link InvalidConfigError} listing every problem of the file.
 *
 * @example
 * ```ts
 * parseConfig("symbols: [solusdt]\nuse_futures: false\n", "config.yaml").markets.spot.symbols; // ["SOLUSDT"]
 * ```
 */
export function parseConfig(text: string, fileName: string, context: ParseContext = {}): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new InvalidConfigError(doc.errors.map((err) => {
      // The message's first line, without the position that ConfigError already shows.
      const what = err.message.split("\n", 1)[0]!.replace(/ at line \d+, column \d+:?$/, "");
      return new ConfigError(fileName, err.linePos?.[0].line ?? null, null, `invalid YAML: ${what}`);
    }));
  }
  const src: Source = { file: fileName, doc, lines, keyLines: new Map(), problems: [] };
  // An empty file (or one with every key commented out) means all defaults.
  const raw = doc.contents === null
    ? defaultsOf(SCHEMA)
    : recording(src, () => section(SCHEMA)(new Cursor(src, "", doc.contents!)), defaultsOf(SCHEMA));
  // Copies the default arrays so freezing the result cannot freeze the schema's shared defaults.
  const resolved = structuredClone(resolve(raw, src, context.env));
  const token = resolveTelegramToken({
    fileToken: raw.telegram_bot_token,
    file: fileName,
    fileMode: context.fileMode ?? null,
    envToken: context.env?.get("TELEGRAM_BOT_TOKEN"),
  });
  if ("problem" in token) {
    const path = "telegram_bot_token";
    src.problems.push(new ConfigError(fileName, src.keyLines.get(path) ?? null, path, token.problem));
  }
  if (src.problems.length > 0) throw new InvalidConfigError(src.problems);
  const { token: telegramToken = null, notice = null } = "problem" in token ? {} : token;
  return deepFreeze({ ...resolved, telegramToken, notices: notice === null ? [] : [notice] });
}

/**
 * Reads and parses the config file at `path` (its permission bits decide whether it may hold the bot token);
 * a missing file is an error, never silent defaults. `env` is where `TELEGRAM_BOT_TOKEN` is looked up.
 */
export async function loadConfig(path: string, env?: ConfigEnv): Promise<Config> {
  let text: string;
  let fileMode: number | null;
  try {
    text = await Deno.readTextFile(path);
    fileMode = (await Deno.stat(path)).mode;
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : `cannot read: ${(e as Error).message}`;
    throw new InvalidConfigError([new ConfigError(path, null, null, why)]);
  }
  return parseConfig(text, path, { env, fileMode });
}

/**
 * For main.ts: {@link loadConfig}, or print `config error: <problem>` to stderr for every problem of the file
 * and exit with code 2.
 */
export async function loadConfigOrExit(path: string, env?: ConfigEnv): Promise<Config> {
  try {
    return await loadConfig(path, env);
  } catch (e) {
    if (!(e instanceof InvalidConfigError)) throw e;
    for (const p of e.problems) console.error(`config error: ${p.message}`);
    Deno.exit(2);
  }
}
