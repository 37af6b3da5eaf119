/**
 * The earlier Python collector's config.yaml loads as it is, and a file with several mistakes reports them all
 * in one run, each with its line and key.
 */
import assert from "node:assert/strict";
import { InvalidConfigError, loadConfig, parseConfig } from "../../lib/config.ts";
import { withTempDir } from "../temp_dir.ts";

const FIXTURE = new URL("../fixtures/python_collector_config.yaml", import.meta.url).pathname;
const FIXTURE_TOKEN = "1234567890:AAFakeTokenForTestsOnly-not_a_real1";
const NO_ENV = { get: () => undefined };

/** The problems of an invalid `text`, as `line key: detail` strings. */
function problems(text: string): string[] {
  try {
    parseConfig(text, "config.yaml");
  } catch (e) {
    if (!(e instanceof InvalidConfigError)) throw e;
    return e.problems.map((p) => `${p.line} ${p.path}: ${p.detail}`);
  }
  assert.fail(`expected problems in ${JSON.stringify(text)}`);
}

Deno.test("loadConfig() reads the Python collector's file as it is (owner-only file)", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config.yaml`;
    await Deno.copyFile(FIXTURE, path);
    await Deno.chmod(path, 0o600);
    const c = await loadConfig(path, NO_ENV);
    const symbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"];
    assert.deepEqual(c.symbols, symbols);
    assert.deepEqual(c.markets.spot.symbols, symbols);
    assert.deepEqual(c.markets.usdm.symbols, symbols);
    assert.equal(c.flushIntervalSec, 60);
    assert.equal(c.dataDir, "./data");
    assert.equal(c.logDir, "./logs");
    assert.equal(c.maxBufferMb, 500);
    assert.equal(c.orderbookDepth, 1000);
    assert.equal(c.orderbookTopLevels, 20);
    assert.equal(c.cloudRemote, "");
    assert.equal(c.cleanupDays, 7);
    assert.equal(c.useFutures, true);
    assert.deepEqual(c.telegramChatIds, ["8451071451"]);
    assert.equal(c.telegramToken?.reveal(), FIXTURE_TOKEN);
    assert.equal(c.telegramToken?.source, path);
  });
});

Deno.test("every problem of a file comes out in one run, with its line and key", () => {
  const text = [
    "symbols: [btcusdt, BTC/USDT, ethusdt, 42]", // 1
    "flush_interval: 0", // 2
    "data_dir: ''", // 3
    "flush_intervl: 3", // 4
    "markets:", // 5
    "  spot:", // 6
    "    streams: [aggTrade, forceOrder]", // 7
    "    rest_url: api.binance.com", // 8
    "  usdm:", // 9
    "    enabled: yes", // 10
    "telegram_chat_id: [12, chat]", // 11
    "api_key: x", // 12
  ].join("\n");
  assert.deepEqual(problems(text), [
    `1 symbols[1]: symbol "BTC/USDT" may contain only letters, digits, _ - .`,
    "1 symbols[3]: expected a string, got 42 (quote it to make it a string)",
    "2 flush_interval: must be at least 1, got 0",
    "3 data_dir: must not be empty",
    `4 flush_intervl: unknown key (did you mean "flush_interval"?)`,
    `7 markets.spot.streams[1]: "forceOrder" is a usdm/coinm stream, not available on spot`,
    `8 markets.spot.rest_url: "api.binance.com" is not a URL`,
    `10 markets.usdm.enabled: expected true or false, got "yes"`,
    `11 telegram_chat_id[1]: "chat" is not a Telegram chat id (an integer or @channel)`,
    "12 api_key: secrets do not belong in config.yaml: remove this key; the Telegram bot token is read from " +
    "the TELEGRAM_BOT_TOKEN environment variable",
  ]);
});

Deno.test("cross-key problems come out with the rest", () => {
  assert.deepEqual(
    problems("use_futures: false\nflush_interval: -1\nmarkets:\n  usdm:\n    enabled: true\n"),
    [
      "2 flush_interval: must be at least 1, got -1",
      "5 markets.usdm.enabled: true conflicts with use_futures: false (line 1); set only one of them",
    ],
  );
});

Deno.test("every YAML syntax error comes out, and nothing is read from a broken file", () => {
  const found = problems("flush_interval: 3\nflush_interval: 4\ndata_dir: x: y\n");
  assert.equal(found.length, 2, found.join("\n"));
  assert.match(found[0]!, /^2 null: invalid YAML: Map keys must be unique/);
  assert.match(found[1]!, /^3 null: invalid YAML: Nested mappings/);
});

Deno.test('empty telegram_bot_token and telegram_chat_id ("") mean none', () => {
  const c = parseConfig('telegram_bot_token: ""\ntelegram_chat_id: ""\n', "config.yaml", {
    env: NO_ENV,
    fileMode: 0o644,
  });
  assert.equal(c.telegramToken, null);
  assert.deepEqual(c.telegramChatIds, []);
  assert.deepEqual(c.notices, []);
  const bare = parseConfig("telegram_bot_token:\ntelegram_chat_id:\n", "config.yaml", { env: NO_ENV });
  assert.equal(bare.telegramToken, null);
  assert.deepEqual(bare.telegramChatIds, []);
});
