import assert from "node:assert/strict";
import type { Logger } from "../../lib/log.ts";
import { ChatGate } from "../../lib/telegram/chat_gate.ts";

function logRecorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: (level, message) => lines.push(`${level} ${message}`), lines };
}

Deno.test("ChatGate.key() gives the configured spelling of an allowed id or @username, null otherwise", () => {
  const gate = new ChatGate(["-1001234567890", "@Binance_Alerts"], logRecorder().log);
  assert.equal(gate.key({ id: -1001234567890 }), "-1001234567890");
  assert.equal(gate.key({ id: -100999, username: "binance_ALERTS" }), "@Binance_Alerts");
  assert.equal(gate.key({ id: -100999, username: "other" }), null);
  assert.equal(gate.key({ id: 1234567890 }), null);
  assert.equal(gate.key(undefined), null);
});

Deno.test("ChatGate.admit() passes allowed chats on and counts and logs the others", async () => {
  const { log, lines } = logRecorder();
  const gate = new ChatGate(["1001"], log);
  let passed = 0;
  const next = () => {
    passed++;
    return Promise.resolve();
  };
  await gate.admit({ chat: { id: 1001 } }, next);
  await gate.admit({ chat: { id: 1002 } }, next);
  await gate.admit({}, next);
  assert.equal(passed, 1);
  assert.equal(gate.ignored, 2);
  assert.deepEqual(lines, [
    "warn Telegram message from a chat not in telegram_chat_id ignored",
    "warn Telegram message from a chat not in telegram_chat_id ignored",
  ]);
});
