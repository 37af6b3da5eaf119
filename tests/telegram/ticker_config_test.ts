/** The config keys of the ticker: `telegram.ticker_interval` and `telegram.flush_report`. */
import assert from "node:assert/strict";
import { InvalidConfigError, parseConfig } from "../../lib/config.ts";

Deno.test("telegram.ticker_interval defaults to 180 s with a chat and to off without one", () => {
  assert.equal(parseConfig("", "config.yaml").telegram.tickerIntervalSec, 0);
  assert.equal(parseConfig("telegram_chat_id: -100123\n", "config.yaml").telegram.tickerIntervalSec, 180);
  const empty = parseConfig("telegram_chat_id: 7\ntelegram:\n  ticker_interval:\n", "config.yaml");
  assert.equal(empty.telegram.tickerIntervalSec, 180, "an empty value means the default");
  const off = parseConfig("telegram_chat_id: 7\ntelegram:\n  ticker_interval: 0\n", "config.yaml");
  assert.equal(off.telegram.tickerIntervalSec, 0);
  const fast = parseConfig("telegram:\n  ticker_interval: 2\n  flush_report: true\n", "config.yaml");
  assert.deepEqual([fast.telegram.tickerIntervalSec, fast.telegram.flushReport], [2, true]);
  assert.equal(parseConfig("", "config.yaml").telegram.flushReport, false);
});

Deno.test("telegram.ticker_interval and flush_report reject bad values with the line and key", () => {
  const cases: [string, RegExp][] = [
    ["telegram:\n  ticker_interval: -5\n", /^config\.yaml:2: telegram\.ticker_interval: .*at least 0/],
    ["telegram:\n  ticker_interval: 1.5\n", /^config\.yaml:2: telegram\.ticker_interval: /],
    ["telegram:\n  flush_report: yes please\n", /^config\.yaml:2: telegram\.flush_report: /],
  ];
  for (const [text, want] of cases) {
    assert.throws(() => parseConfig(text, "config.yaml"), (err: unknown) => {
      assert.ok(err instanceof InvalidConfigError, String(err));
      assert.match(err.message, want);
      return true;
    });
  }
});
