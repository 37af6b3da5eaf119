import assert from "node:assert/strict";
import { GrammyError } from "grammy";
import type { Logger } from "../../lib/log.ts";
import type { Alert } from "../../lib/telegram/alerts.ts";
import {
  Delivery,
  type DeliveryOptions,
  NotDeliveredError,
  type SendFn,
} from "../../lib/telegram/delivery.ts";

interface Sent {
  chatId: string;
  text: string;
  atMs: number;
}

/** A send function that records calls and answers with `outcome(call number, chat)`: a throw or success. */
function recorder(outcome: (n: number, chatId: string) => Error | null = () => null) {
  const attempts: Sent[] = [];
  const sent: Sent[] = [];
  const send: SendFn = (chatId, text) => {
    const call = { chatId, text, atMs: performance.now() };
    attempts.push(call);
    const err = outcome(attempts.length, chatId);
    if (err) return Promise.reject(err);
    sent.push(call);
    return Promise.resolve();
  };
  return { send, attempts, sent };
}

function logRecorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: (level, message) => lines.push(`${level} ${message}`), lines };
}

const apiError = (code: number, retryAfter?: number) =>
  new GrammyError(
    `Call to 'sendMessage' failed! (${code})`,
    {
      ok: false,
      error_code: code,
      description: `error ${code}`,
      ...(retryAfter === undefined ? {} : { parameters: { retry_after: retryAfter } }),
    },
    "sendMessage",
    {},
  );

const gap = (symbol: string): Alert => ({
  kind: "gap",
  market: "spot",
  gap: {
    symbol,
    stream: "depth@100ms",
    kind: "sequence",
    start_time: 0,
    end_time: 1_000_000,
    last_update_id: 1,
    resume_update_id: 5,
    reason: "U > u+1",
  },
});

async function until(ready: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!ready()) {
    if (performance.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function delivery(send: SendFn, log: Logger, options: Partial<DeliveryOptions> = {}): Delivery {
  const d = new Delivery({ chatIds: ["A"], send, log, coalesce: { settleMs: 0 }, backoffMs: 20, ...options });
  d.start();
  return d;
}

Deno.test("Delivery.alert() returns at once while Telegram hangs, and the queue stays bounded", async () => {
  const { log, lines } = logRecorder();
  let calls = 0;
  // Every send hangs until it is aborted (a server that accepts connections and never answers).
  const send: SendFn = (_chat, _text, signal) => {
    calls++;
    return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
  };
  const d = delivery(send, log, { chatIds: ["A", "B"], outbox: { capacity: 10 }, sendTimeoutMs: 60_000 });
  const t0 = performance.now();
  // Start alerts are never coalesced, so each one reaches the queues.
  for (let i = 0; i < 10_000; i++) d.alert({ kind: "start", version: String(i), dataDir: "d", markets: [] });
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < 500, `10000 alerts took ${elapsed.toFixed(0)} ms`);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 1, "one send in flight, the rest wait");
  const { queued, coalescing, dropped, sent } = d.stats;
  // Two queues of at most 10 (the message in flight merged one of them).
  assert.ok(queued <= 2 * 10, `queued ${queued}`);
  assert.equal(coalescing, 0);
  assert.equal(dropped, 2 * (10_000 - 10));
  assert.equal(sent, 0);
  const s0 = performance.now();
  await d.stop(100);
  const stopMs = performance.now() - s0;
  assert.ok(stopMs >= 90 && stopMs < 1000, `stop took ${stopMs.toFixed(0)} ms`);
  assert.ok(lines.includes("warn Telegram messages not sent at shutdown"), lines.join("\n"));
});

Deno.test("Delivery retries a failed send with doubling backoff, logging once each way", async () => {
  const { log, lines } = logRecorder();
  const r = recorder((n) => (n <= 2 ? new TypeError("Connection refused") : n <= 4 ? apiError(502) : null));
  const d = delivery(r.send, log, { outbox: { minIntervalMs: 0 }, backoffMs: 40 });
  d.alert({ kind: "flush_failed", error: "ENOSPC" });
  await until(() => r.sent.length === 1, "the message");
  await d.stop();
  assert.equal(r.attempts.length, 5);
  assert.ok(r.attempts.every((a) => a.text === "❌ Flush failed: ENOSPC"));
  const waits = r.attempts.slice(1).map((a, i) => a.atMs - r.attempts[i]!.atMs);
  [40, 80, 160, 320].forEach((want, i) =>
    assert.ok(waits[i]! >= want - 2, `wait ${i}: ${waits[i]} < ${want}`)
  );
  assert.deepEqual(lines, [
    "warn Telegram unreachable; alerts wait in a bounded queue",
    "info Telegram reachable again",
  ]);
});

Deno.test("Delivery waits retry_after on a 429 that auto-retry passed on", async () => {
  const { log } = logRecorder();
  const r = recorder((n) => (n === 1 ? apiError(429, 0.3) : null));
  const d = delivery(r.send, log, { outbox: { minIntervalMs: 0 } });
  d.alert({ kind: "flush_failed", error: "x" });
  await until(() => r.sent.length === 1, "the message");
  await d.stop();
  const wait = r.attempts[1]!.atMs - r.attempts[0]!.atMs;
  assert.ok(wait >= 298 && wait < 1000, `waited ${wait.toFixed(0)} ms`);
});

Deno.test("Delivery drops messages a chat refuses, counts them, and carries on", async () => {
  const { log, lines } = logRecorder();
  const r = recorder((_n, chat) => (chat === "B" ? apiError(403) : null));
  const d = delivery(r.send, log, { chatIds: ["A", "B"], outbox: { minIntervalMs: 0 } });
  d.alert({ kind: "flush_failed", error: "one" });
  await until(() => r.attempts.length === 2, "both chats tried");
  d.alert({ kind: "sync_failed", path: "p", error: "two" });
  await until(() => r.attempts.length === 4, "both chats tried again");
  await d.stop();
  assert.deepEqual(r.sent.map((s) => s.text), ["❌ Flush failed: one", "☁️ Upload failed: p: two"]);
  assert.ok(r.sent.every((s) => s.chatId === "A"));
  assert.equal(d.stats.refused, 2);
  assert.equal(d.stats.sent, 2);
  assert.equal(lines.filter((l) => l === "warn Telegram refused a message").length, 2);
});

Deno.test("Delivery.stop() sends coalescing groups at once instead of waiting out their windows", async () => {
  const { log } = logRecorder();
  const r = recorder();
  const d = delivery(r.send, log, { coalesce: { settleMs: 60_000 } });
  for (const s of ["BTCUSDT", "BTCUSDT", "ETHUSDT"]) d.alert(gap(s));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(r.sent.length, 0, "still settling");
  d.alert({ kind: "stop", version: "1.0.0", reason: "SIGTERM", uptimeMs: 5000 });
  await d.stop(2000);
  assert.equal(r.sent.length, 1, "stop notice and summary merge into one message");
  assert.match(
    r.sent[0]!.text,
    /^🔴 <b>Collector stopped<\/b> v1\.0\.0: SIGTERM, up 5s\n\n🕳 3 gaps on spot /,
  );
  assert.equal(d.stats.queued + d.stats.coalescing, 0);
});

Deno.test("Delivery keeps one message per chat per interval and puts replies first", async () => {
  const { log } = logRecorder();
  const r = recorder();
  const d = delivery(r.send, log, { chatIds: ["A", "B"], outbox: { minIntervalMs: 150 } });
  d.alert({ kind: "flush_failed", error: "1" });
  await until(() => r.sent.length === 2, "first alert to both chats");
  d.alert({ kind: "sync_failed", path: "p", error: "2" });
  d.reply("A", "pong");
  await until(() => r.sent.length === 5, "the rest");
  await d.stop();
  const toA = r.sent.filter((s) => s.chatId === "A");
  assert.deepEqual(toA.map((s) => s.text), ["❌ Flush failed: 1", "pong", "☁️ Upload failed: p: 2"]);
  for (const chat of ["A", "B"]) {
    const times = r.sent.filter((s) => s.chatId === chat).map((s) => s.atMs);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 149, `${chat}: ${times}`);
  }
});

Deno.test("Delivery sends a settling alert when it is due, though the loop was idle", async () => {
  const { log } = logRecorder();
  const r = recorder();
  const d = delivery(r.send, log, { coalesce: { settleMs: 100 } });
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  d.alert(gap("BTCUSDT"));
  d.alert(gap("ETHUSDT"));
  await until(() => r.sent.length === 1, "the summary");
  await d.stop();
  const after = r.sent[0]!.atMs - t0;
  assert.ok(after >= 99 && after < 500, `sent after ${after.toFixed(0)} ms`);
  assert.match(r.sent[0]!.text, /^🕳 2 gaps on spot in the last 1 s \(BTCUSDT, ETHUSDT\)/);
});

Deno.test("Delivery.alert() logs an alert it cannot word instead of throwing", async () => {
  const { log, lines } = logRecorder();
  const d = delivery(recorder().send, log);
  d.alert({ kind: "start" } as Alert);
  assert.deepEqual(lines, ["error Telegram alert not queued"]);
  await d.stop();
});

Deno.test("Delivery.deliver() resolves once Telegram took the message, and is tried only once on failure", async () => {
  const { log, lines } = logRecorder();
  // Call 1 (the report) fails as a server error, call 3 (the second report) is refused; the rest go through.
  const r = recorder((n) => (n === 1 ? apiError(500) : n === 3 ? apiError(400) : null));
  const d = delivery(r.send, log, { outbox: { minIntervalMs: 0 }, backoffMs: 20 });
  try {
    await assert.rejects(d.deliver("A", "report"), (err: unknown) => {
      assert.ok(err instanceof NotDeliveredError);
      assert.equal(err.message, "Telegram message to chat A not delivered: 500 error 500");
      return true;
    });
    // Not retried by the loop: the next message is the alert, not the report again.
    d.alert({ kind: "flush_failed", error: "ENOSPC" });
    await until(() => r.sent.length === 1, "the alert");
    assert.deepEqual(r.attempts.map((a) => a.text), ["report", "❌ Flush failed: ENOSPC"]);
    await assert.rejects(d.deliver("A", "report 2"), /not delivered: 400 error 400/);
    await d.deliver("A", "report 3");
    assert.deepEqual(r.sent.map((a) => a.text), ["❌ Flush failed: ENOSPC", "report 3"]);
    assert.equal(d.stats.refused, 1);
    assert.ok(lines.includes("warn Telegram unreachable; alerts wait in a bounded queue"), lines.join("\n"));
  } finally {
    await d.stop();
  }
});

Deno.test("Delivery.deliver() rejects a message still queued at stop, and any after it", async () => {
  const { log } = logRecorder();
  const send: SendFn = (_chat, _text, signal) =>
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
  const d = delivery(send, log, { sendTimeoutMs: 60_000 });
  const inFlight = d.deliver("A", "first");
  const queued = d.deliver("A", "second");
  await d.stop(50);
  await assert.rejects(inFlight, /not delivered: the collector stopped while it was being sent/);
  await assert.rejects(queued, /not delivered: the collector stopped before it was sent/);
  await assert.rejects(d.deliver("A", "late"), /not delivered: Telegram delivery is stopped/);
});

Deno.test("Delivery.post() queues for every chat; a newer message of a tag replaces one not sent yet", async () => {
  const { log } = logRecorder();
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => release = r);
  const r = recorder();
  // The first send waits for the gate, so the tickers posted meanwhile queue up.
  const send: SendFn = async (chat, text, signal) => {
    if (r.attempts.length === 0) await gate;
    return r.send(chat, text, signal);
  };
  const d = delivery(send, log, { chatIds: ["A", "B"], outbox: { minIntervalMs: 0 } });
  try {
    d.post("ticker 1", "ticker");
    await new Promise((res) => setTimeout(res, 20));
    for (let i = 2; i <= 5; i++) d.post(`ticker ${i}`, "ticker");
    release();
    await until(() => r.sent.length === 3, "three messages");
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(r.sent.map((m) => `${m.chatId} ${m.text}`).sort(), [
      "A ticker 1",
      "A ticker 5",
      "B ticker 5",
    ]);
  } finally {
    await d.stop();
  }
});
