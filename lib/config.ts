/**
 * config.yaml: parsed once at start, validated strictly, resolved into a frozen {@link Config}.
 *
 * The schema is the table {@link SCHEMA} in config/schema.ts (key → reader, default); docs/config.md documents
 * every key.
 * Unknown keys, wrong types and bad values fail with the file line and the dotted key path, all of a file's
 * problems at once. The files of the earlier Python collector load as they are (lower-case symbols, empty
 * strings for "none", `telegram_bot_token` in an owner-only file); the token is resolved with the environment
 * main.ts passes in (lib/config/telegram_token.ts) and kept in a {@link Secret} that never prints.
 */
import { LineCounter, parseDocument } from "yaml";
import { depthLimitFor } from "./binance/endpoints.ts";
import { PROFILES } from "./binance/markets.ts";
import { type Market, MARKETS } from "./binance/types.ts";
import type { SymbolFilter } from "./binance/universe.ts";
import {
  ConfigError,
  Cursor,
  defaultsOf,
  InvalidConfigError,
  recording,
  section,
  type Source,
} from "./config/reader.ts";
import type { Secret } from "./config/secret.ts";
import { resolveTelegramToken } from "./config/telegram_token.ts";
import { filterOf, type Raw, SCHEMA, symbolsOf } from "./config/schema.ts";
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
  readonly status: {
    readonly enabled: boolean;
    readonly hostname: string;
    readonly port: number;
    /** `/metrics` has a series per symbol-stream and per book (else only the totals per market and kind). */
    readonly metricsPerSymbol: boolean;
  };
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
    status: {
      enabled: raw.status.enabled,
      hostname: raw.status.hostname,
      port: raw.status.port,
      metricsPerSymbol: raw.status.metrics_per_symbol,
    },
    shard,
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
