import assert from "node:assert/strict";
import { ConfigError, InvalidConfigError, loadConfig, parseConfig } from "../lib/config.ts";

const FILE = "config.yaml";

/** Parses `text` expecting an InvalidConfigError; returns its problems. */
function problemsOf(text: string): readonly ConfigError[] {
  let err: unknown;
  try {
    parseConfig(text, FILE);
  } catch (e) {
    err = e;
  }
  assert.ok(
    err instanceof InvalidConfigError,
    `expected InvalidConfigError for ${JSON.stringify(text)}, got ${err}`,
  );
  assert.equal(err.name, "InvalidConfigError");
  assert.equal(err.message, err.problems.map((p) => p.message).join("\n"));
  return err.problems;
}

/** Parses `text` expecting one problem, at `line` for `path`, with `includes` in the message. */
function expectError(text: string, line: number | null, path: string | null, includes: string): ConfigError {
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, problems.map((p) => p.message).join("\n"));
  const err = problems[0]!;
  assert.ok(err instanceof ConfigError);
  assert.equal(err.name, "ConfigError");
  assert.equal(err.line, line, err.message);
  assert.equal(err.path, path, err.message);
  assert.ok(err.message.includes(includes), `"${err.message}" should include "${includes}"`);
  const prefix = `${FILE}${line === null ? "" : `:${line}`}: ${path === null ? "" : `${path}: `}`;
  assert.ok(err.message.startsWith(prefix), `"${err.message}" should start with "${prefix}"`);
  return err;
}

Deno.test("parseConfig() of an empty file gives the documented defaults", () => {
  const c = parseConfig("", FILE);
  assert.deepEqual(c.symbols, ["BTCUSDT", "ETHUSDT"]);
  assert.equal(c.flushIntervalSec, 60);
  assert.equal(c.dataDir, "data");
  assert.equal(c.logDir, "logs");
  assert.equal(c.logRetentionDays, 14);
  assert.equal(c.maxBufferMb, 256);
  assert.equal(c.orderbookDepth, 1000);
  assert.equal(c.orderbookTopLevels, 20);
  assert.equal(c.useFutures, true);
  assert.equal(c.cloudRemote, "");
  assert.equal(c.cleanupDays, 7);
  assert.deepEqual(c.telegramChatIds, []);
  assert.equal(c.telegramToken, null);
  assert.deepEqual(c.notices, []);
  assert.equal(c.connectionLifetimeSec, 85_800);
  assert.deepEqual(c.status, { enabled: true, hostname: "127.0.0.1", port: 8377, metricsPerSymbol: true });
  assert.deepEqual(c.markets.spot, {
    market: "spot",
    enabled: true,
    restUrl: "https://api.binance.com",
    wsUrl: "wss://stream.binance.com:9443",
    symbols: ["BTCUSDT", "ETHUSDT"],
    all: null,
    streams: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker"],
    depthLimit: 1000,
  });
  assert.deepEqual(c.markets.usdm, {
    market: "usdm",
    enabled: true,
    restUrl: "https://fapi.binance.com",
    wsUrl: "wss://fstream.binance.com",
    symbols: ["BTCUSDT", "ETHUSDT"],
    all: null,
    streams: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker", "forceOrder", "markPrice@1s"],
    depthLimit: 1000,
  });
});

Deno.test("the shipped config.yaml parses and equals the defaults", async () => {
  const shipped = await loadConfig(new URL("../config.yaml", import.meta.url).pathname);
  assert.deepEqual(shipped, parseConfig("", FILE));
});

Deno.test("parseConfig() returns a deeply frozen object", () => {
  const c = parseConfig("symbols: [SOLUSDT]\n", FILE);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.markets.spot) && Object.isFrozen(c.markets.usdm.streams));
  assert.throws(() => (c.symbols as string[]).push("X"), TypeError);
  // Each result owns its arrays: freezing one never freezes the schema's shared defaults.
  assert.notEqual(parseConfig("", FILE).symbols, parseConfig("", FILE).symbols);
});

Deno.test("parseConfig() resolves per-market overrides and inherits the top-level symbols", () => {
  const c = parseConfig(
    [
      "symbols: [SOLUSDT, 测试USDT]",
      "orderbook_depth: 300",
      "markets:",
      "  spot:",
      "    rest_url: http://127.0.0.1:8080/",
      "    ws_url: ws://127.0.0.1:8081//",
      "    streams: [depth, trade, kline_1s]",
      "  usdm:",
      "    symbols: [BTCUSDT]",
      "    streams: [depth@500ms, markPrice]",
    ].join("\n"),
    FILE,
  );
  assert.equal(c.markets.spot.restUrl, "http://127.0.0.1:8080");
  assert.equal(c.markets.spot.wsUrl, "ws://127.0.0.1:8081");
  assert.deepEqual(c.markets.spot.symbols, ["SOLUSDT", "测试USDT"]);
  assert.deepEqual(c.markets.spot.streams, ["depth", "trade", "kline_1s"]);
  assert.deepEqual(c.markets.usdm.symbols, ["BTCUSDT"]);
  assert.deepEqual(c.markets.usdm.streams, ["depth@500ms", "markPrice"]);
  assert.equal(c.markets.spot.depthLimit, 300);
  assert.equal(c.markets.usdm.depthLimit, 100);
});

Deno.test("parseConfig() maps orderbook_depth to a valid USD-M limit", () => {
  const cases: [number, number][] = [[5, 5], [7, 5], [50, 50], [499, 100], [500, 500], [999, 500], [
    5000,
    1000,
  ]];
  for (const [depth, usdm] of cases) {
    const c = parseConfig(`orderbook_depth: ${depth}`, FILE);
    assert.equal(c.markets.spot.depthLimit, depth);
    assert.equal(c.markets.usdm.depthLimit, usdm, `depth ${depth}`);
  }
  expectError("orderbook_depth: 4", 1, "orderbook_depth", "must be at least 5, got 4");
  expectError("\norderbook_depth: 5001", 2, "orderbook_depth", "must be at most 5000");
});

Deno.test("use_futures and markets.usdm.enabled: either switches USD-M, a disagreement is an error", () => {
  assert.equal(parseConfig("use_futures: false", FILE).markets.usdm.enabled, false);
  const byMarket = parseConfig("markets:\n  usdm:\n    enabled: false\n", FILE);
  assert.equal(byMarket.markets.usdm.enabled, false);
  assert.equal(byMarket.useFutures, false);
  assert.equal(parseConfig("use_futures: true\nmarkets: {usdm: {enabled: true}}", FILE).useFutures, true);
  const err = expectError(
    "use_futures: false\nflush_interval: 5\nmarkets:\n  usdm:\n    enabled: true\n",
    5,
    "markets.usdm.enabled",
    "conflicts with use_futures: false (line 1)",
  );
  assert.ok(err.message.includes("set only one"));
  expectError(
    "use_futures: false\nmarkets:\n  spot:\n    enabled: false\n",
    4,
    "markets.spot.enabled",
    "no market is enabled",
  );
});

Deno.test("unknown keys are errors at their line, top level and nested, with a suggestion when close", () => {
  expectError("symbols: [BTCUSDT]\nflush_intervl: 3\n", 2, "flush_intervl", `did you mean "flush_interval"?`);
  expectError("foo: 1", 1, "foo", "unknown key; valid keys here: symbols, symbol_filter, flush_interval");
  expectError(
    "markets:\n  spot:\n    enabled: true\n    stream: [aggTrade]\n",
    4,
    "markets.spot.stream",
    "did you mean",
  );
  expectError("markets:\n  options: {}\n", 2, "markets.options", "valid keys here: spot, usdm, coinm");
});

Deno.test("wrong types name the key and line", () => {
  expectError('flush_interval: "60"', 1, "flush_interval", `expected an integer, got "60"`);
  expectError("flush_interval: 1.5", 1, "flush_interval", "expected an integer, got 1.5");
  expectError("\n\nuse_futures: yes", 3, "use_futures", `expected true or false, got "yes"`);
  expectError("symbols: BTCUSDT", 1, "symbols", `expected a list, got "BTCUSDT"`);
  expectError("symbols:\n", 1, "symbols", "expected a list, got an empty value");
  expectError("symbols: [BTCUSDT, 42]", 1, "symbols[1]", "expected a string, got 42 (quote it");
  expectError("markets: [spot]", 1, "markets", "expected a mapping of keys to values, got a list");
  expectError("cloud_path: 2024", 1, "cloud_path", "quote it");
  expectError(
    "status:\n  metrics_per_symbol: 0",
    2,
    "status.metrics_per_symbol",
    "expected true or false, got 0",
  );
  expectError("- symbols", 1, null, "expected a mapping of keys to values, got a list");
});

Deno.test("bad values name the key and line", () => {
  expectError("flush_interval: 0", 1, "flush_interval", "must be at least 1, got 0");
  expectError("max_buffer_mb: -5", 1, "max_buffer_mb", "must be at least 1");
  expectError("orderbook_top_levels: 1001", 1, "orderbook_top_levels", "must be at most 1000");
  expectError("cleanup_days: -1", 1, "cleanup_days", "must be at least 0");
  expectError("connection_lifetime: 90000", 1, "connection_lifetime", "must be at most 86400");
  expectError('data_dir: ""', 1, "data_dir", "must not be empty");
  expectError("symbols: []", 1, "symbols", "must not be an empty list");
  expectError("symbols:\n  - BTCUSDT\n  - BTCUSDT\n", 3, "symbols[1]", `duplicate entry "BTCUSDT"`);
  expectError("symbols: [BTC/USDT]", 1, "symbols[0]", "may contain only letters, digits");
  expectError("telegram_chat_id: [12, chat]", 1, "telegram_chat_id[1]", `"chat" is not a Telegram chat id`);
  expectError("telegram_chat_id: 1.5", 1, "telegram_chat_id", "expected an integer");
});

Deno.test("symbols are upper-cased; a string that cannot be a symbol is still an error", () => {
  assert.deepEqual(parseConfig("symbols:\n  - BTCUSDT\n  - ethusdt\n", FILE).symbols, ["BTCUSDT", "ETHUSDT"]);
  const perMarket = parseConfig("markets:\n  usdm:\n    symbols: [Solusdt]\n", FILE);
  assert.deepEqual(perMarket.markets.usdm.symbols, ["SOLUSDT"]);
  expectError("symbols: [btcusdt, BTCUSDT]", 1, "symbols[1]", `duplicate entry "BTCUSDT"`);
  expectError("symbols: [btc usdt]", 1, "symbols[0]", `symbol "btc usdt" may contain only letters, digits`);
  assert.deepEqual(parseConfig("symbols: [测试USDT, 1000SHIBUSDT]", FILE).symbols, [
    "测试USDT",
    "1000SHIBUSDT",
  ]);
});

Deno.test("streams are checked against the market", () => {
  expectError(
    "markets:\n  spot:\n    streams: [aggTrade, forceOrder]\n",
    3,
    "markets.spot.streams[1]",
    `"forceOrder" is a usdm/coinm stream, not available on spot`,
  );
  expectError(
    "markets:\n  spot:\n    streams: [markPrice@1s]",
    3,
    "markets.spot.streams[0]",
    "usdm/coinm stream",
  );
  expectError(
    "markets:\n  spot:\n    streams: [depth@500ms]",
    3,
    "markets.spot.streams[0]",
    "not available on spot",
  );
  expectError(
    "markets:\n  usdm:\n    streams:\n      - trade\n",
    4,
    "markets.usdm.streams[0]",
    "spot stream",
  );
  expectError(
    "markets:\n  usdm:\n    streams: [depth@1000ms]",
    3,
    "markets.usdm.streams[0]",
    "unknown stream",
  );
  expectError(
    "markets:\n  usdm:\n    streams: [depth@250ms]",
    3,
    "markets.usdm.streams[0]",
    "unknown stream",
  );
  expectError(
    "markets:\n  usdm:\n    streams: [kline_1s]",
    3,
    "markets.usdm.streams[0]",
    "no such usdm kline interval",
  );
  expectError("markets:\n  spot:\n    streams: [kline_2m]", 3, "markets.spot.streams[0]", "valid: 1s, 1m");
  expectError(
    "markets:\n  spot:\n    streams: [depth20]",
    3,
    "markets.spot.streams[0]",
    `unknown stream "depth20"`,
  );
  expectError(
    "markets:\n  usdm:\n    streams:\n      - depth\n      - depth@100ms\n",
    3,
    "markets.usdm.streams",
    `"depth" and "depth@100ms" both record depth`,
  );
  expectError(
    "markets:\n  usdm:\n    streams: [aggTrade, aggTrade]",
    3,
    "markets.usdm.streams[1]",
    "duplicate",
  );
});

Deno.test("URLs must have the right scheme and no query, fragment or credentials", () => {
  expectError(
    "markets:\n  spot:\n    rest_url: api.binance.com\n",
    3,
    "markets.spot.rest_url",
    "is not a URL",
  );
  expectError(
    "markets:\n  spot:\n    rest_url: wss://x.test\n",
    3,
    "markets.spot.rest_url",
    "https:// or http://",
  );
  expectError("markets:\n  usdm:\n    ws_url: https://x.test\n", 3, "markets.usdm.ws_url", "wss:// or ws://");
  expectError(
    "markets:\n  usdm:\n    ws_url: wss://x.test/?a=1\n",
    3,
    "markets.usdm.ws_url",
    "query or fragment",
  );
  expectError(
    "markets:\n  usdm:\n    rest_url: https://u:p@x.test\n",
    3,
    "markets.usdm.rest_url",
    "credentials",
  );
});

Deno.test("secret-looking keys point to the environment variable", () => {
  expectError("symbols: [BTCUSDT]\ntelegram_token: 123:abc\n", 2, "telegram_token", "TELEGRAM_BOT_TOKEN");
  expectError("markets:\n  spot:\n    bot_token: x\n", 3, "markets.spot.bot_token", "secrets do not belong");
  expectError("api_key: x", 1, "api_key", "secrets do not belong");
});

Deno.test("YAML syntax errors carry the line", () => {
  expectError("symbols: [BTCUSDT]\ndata_dir: x: y\n", 2, null, "invalid YAML: Nested mappings");
  expectError("symbols: [BTCUSDT]\nmarkets:\n\tspot: {}\n", 3, null, "invalid YAML: Tabs");
  expectError("flush_interval: 3\nflush_interval: 4\n", 2, null, "invalid YAML: Map keys must be unique");
});

Deno.test("empty values mean the default only where documented", () => {
  const c = parseConfig("cloud_remote:\ntelegram_chat_id:\nmarkets:\n", FILE);
  assert.equal(c.cloudRemote, "");
  assert.deepEqual(c.telegramChatIds, []);
  expectError("flush_interval:\n", 1, "flush_interval", "got an empty value");
});

Deno.test("telegram_chat_id accepts one id or a list, kept as strings", () => {
  assert.deepEqual(parseConfig("telegram_chat_id: -1001234567890", FILE).telegramChatIds, ["-1001234567890"]);
  assert.deepEqual(parseConfig('telegram_chat_id: "@alerts"', FILE).telegramChatIds, ["@alerts"]);
  assert.deepEqual(parseConfig('telegram_chat_id: [1, "-2", "@c"]', FILE).telegramChatIds, ["1", "-2", "@c"]);
});

Deno.test("YAML anchors and aliases are followed", () => {
  const c = parseConfig("symbols: &s [SOLUSDT]\nmarkets:\n  usdm:\n    symbols: *s\n", FILE);
  assert.deepEqual(c.markets.usdm.symbols, ["SOLUSDT"]);
});

Deno.test("loadConfig() of a missing file is an error, not defaults", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nope.yaml`;
    await assert.rejects(loadConfig(path), (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError);
      assert.equal(e.message, `${path}: file not found`);
      return true;
    });
    await Deno.writeTextFile(path, "symbols: [XRPUSDT]\n");
    assert.deepEqual((await loadConfig(path)).symbols, ["XRPUSDT"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfigOrExit() prints every problem of the file, one line each, and exits with code 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, "symbols: [BTCUSDT]\nflush_interval: 0\n");
    const script = `${dir}/main.ts`;
    const lib = new URL("../lib/config.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { loadConfigOrExit } from "${lib}";\nawait loadConfigOrExit(Deno.args[0]!);\nconsole.log("loaded");\n`,
    );
    const denoJson = new URL("../deno.json", import.meta.url).pathname;
    const run = (file: string) =>
      new Deno.Command(Deno.execPath(), {
        // The yaml package reads LOG_TOKENS/LOG_STREAM from the environment while parsing.
        args: ["run", "--quiet", "--config", denoJson, "--allow-read", "--allow-env", script, file],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const bad = await run(path);
    const stderr = new TextDecoder().decode(bad.stderr);
    assert.equal(bad.code, 2, stderr);
    assert.equal(stderr, `config error: ${path}:2: flush_interval: must be at least 1, got 0\n`);
    assert.equal(new TextDecoder().decode(bad.stdout), "");

    await Deno.writeTextFile(path, "symbols: [BTC/USDT]\nflush_interval: 0\nfoo: 1\n");
    const many = await run(path);
    assert.equal(many.code, 2);
    const lines = new TextDecoder().decode(many.stderr).split("\n");
    assert.equal(lines.length, 4, lines.join("\n"));
    assert.equal(
      lines[0],
      `config error: ${path}:1: symbols[0]: symbol "BTC/USDT" may contain only letters, digits, _ - .`,
    );
    assert.equal(lines[1], `config error: ${path}:2: flush_interval: must be at least 1, got 0`);
    assert.ok(lines[2]!.startsWith(`config error: ${path}:3: foo: unknown key`), lines[2]);
    assert.equal(lines[3], "");

    const missing = await run(`${dir}/missing.yaml`);
    assert.equal(missing.code, 2);
    assert.match(
      new TextDecoder().decode(missing.stderr),
      /^config error: .*missing\.yaml: file not found\n$/,
    );

    await Deno.writeTextFile(path, "symbols: [BTCUSDT]\n");
    const good = await run(path);
    assert.equal(good.code, 0, new TextDecoder().decode(good.stderr));
    assert.equal(new TextDecoder().decode(good.stdout), "loaded\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("symbols: all, top level or per market, with a symbol_filter; a filter without all is an error", () => {
  const c = parseConfig(
    "symbols: all\nsymbol_filter:\n  quote_assets: [usdt, fdusd]\n  exclude: [btcdownusdt]\n" +
      "  min_quote_volume: 2.5e6\n  refresh_interval: 120\nmarkets:\n  usdm:\n    symbols: [btcusdt]\n",
    FILE,
  );
  assert.deepEqual(c.markets.spot.symbols, []);
  assert.deepEqual(c.markets.spot.all, {
    quoteAssets: ["USDT", "FDUSD"],
    include: [],
    exclude: ["BTCDOWNUSDT"],
    minQuoteVolume: 2.5e6,
    refreshSec: 120,
  });
  assert.equal(c.markets.usdm.all, null);
  assert.deepEqual(c.markets.usdm.symbols, ["BTCUSDT"]);
  const perMarket = parseConfig(
    "markets:\n  usdm:\n    symbols: ALL\n    symbol_filter:\n      include: [x]\n",
    FILE,
  );
  assert.deepEqual(perMarket.markets.usdm.all?.include, ["X"]);
  assert.equal(perMarket.markets.spot.all, null);
  expectError(
    "symbol_filter:\n  quote_assets: [USDT]\n",
    1,
    "symbol_filter",
    "applies only with symbols: all",
  );
  expectError(
    "symbols: all\nsymbol_filter:\n  refresh_interval: 1\n",
    3,
    "symbol_filter.refresh_interval",
    "at least 10",
  );
  expectError(
    "symbols: all\nsymbol_filter:\n  min_quote_volume: -1\n",
    3,
    "symbol_filter.min_quote_volume",
    "at least 0",
  );
});

Deno.test("shard: index, count, replicas and name; COLLECTOR_SHARD_INDEX sets the index; {shard} in paths", () => {
  assert.equal(parseConfig("", FILE).shard, null, "no shard section: one collector");
  const yaml = "shard:\n  index: 1\n  count: 3\ndata_dir: /srv/{shard}\nkv_path: /srv/{shard}/kv.sqlite\n";
  const c = parseConfig(yaml, FILE);
  assert.deepEqual(c.shard, { index: 1, count: 3, replicas: 1, name: "s1" });
  assert.equal(c.dataDir, "/srv/s1");
  assert.equal(c.kvPath, "/srv/s1/kv.sqlite");
  assert.equal(c.logDir, "logs");
  // A StatefulSet pod's name, or a systemd instance's number.
  const env = (v: string) => ({ env: { get: (k: string) => k === "COLLECTOR_SHARD_INDEX" ? v : undefined } });
  assert.equal(parseConfig(yaml, FILE, env("collector-2")).shard?.index, 2);
  assert.equal(parseConfig(yaml, FILE, env("0")).dataDir, "/srv/s0");
  const named = parseConfig("shard: {index: 0, count: 2, replicas: 2, name: eu-1}\n", FILE);
  assert.deepEqual(named.shard, { index: 0, count: 2, replicas: 2, name: "eu-1" });

  const problems = problemsOf("shard:\n  index: 3\n  count: 3\n  replicas: 4\n  name: EU\n");
  assert.deepEqual(problems.map((p) => [p.line, p.path]), [[5, "shard.name"], [2, "shard.index"], [
    4,
    "shard.replicas",
  ]]);
  expectError("shard:\n  count: 2\n", 1, "shard", "shard.index is required (or COLLECTOR_SHARD_INDEX");
  assert.equal(parseConfig("shard:\n  count: 2\n", FILE, env("collector-1")).shard?.name, "s1");
});
