import assert from "node:assert/strict";
import { GrammyError } from "grammy";
import type { Logger } from "../../lib/log.ts";
import { Poller, type PollerOptions } from "../../lib/telegram/poller.ts";

interface Poll {
  offset: number;
  timeout: number;
  limit?: number;
  atMs: number;
}

type Upd = { update_id: number };

/** getUpdates answering from `script` (one entry per call: updates, an error, or "hang" until aborted). */
function scripted(script: (Upd[] | Error | "hang")[]) {
  const polls: Poll[] = [];
  const getUpdates: PollerOptions<Upd>["getUpdates"] = (params, signal) => {
    polls.push({ ...params, atMs: performance.now() });
    const step = script.shift() ?? "hang";
    if (step === "hang") {
      return new Promise((_, reject) => {
        if (signal.aborted) reject(new Error("aborted"));
        signal.addEventListener("abort", () => reject(new Error("aborted")));
      });
    }
    return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
  };
  return { polls, getUpdates };
}

function logRecorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: (level, message) => lines.push(`${level} ${message}`), lines };
}

async function until(ready: () => boolean, what: string): Promise<void> {
  const end = performance.now() + 3000;
  while (!ready()) {
    if (performance.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ok = () => Promise.resolve();

Deno.test("Poller handles updates in order, advancing the offset, and skips one whose handler throws", async () => {
  const { log, lines } = logRecorder();
  const { polls, getUpdates } = scripted([
    [{ update_id: 7 }, { update_id: 8 }],
    [],
    [{ update_id: 9 }],
    "hang",
    [],
  ]);
  const handled: number[] = [];
  const poller = new Poller<Upd>({
    init: ok,
    getUpdates,
    log,
    timeoutSec: 25,
    handle: (u) => {
      handled.push(u.update_id);
      return u.update_id === 8 ? Promise.reject(new Error("boom")) : Promise.resolve();
    },
  });
  poller.start();
  await until(() => polls.length === 4, "the fourth poll");
  assert.deepEqual(handled, [7, 8, 9]);
  assert.deepEqual(polls.map((p) => [p.offset, p.timeout]), [[0, 25], [9, 25], [9, 25], [10, 25]]);
  assert.deepEqual(lines, ["warn Telegram update not handled"]);
  assert.equal(poller.handled, 3);
  await poller.stop();
});

Deno.test("Poller.stop() ends a pending long poll at once and confirms the last batch", async () => {
  const { log } = logRecorder();
  const { polls, getUpdates } = scripted([[{ update_id: 41 }], "hang", []]);
  const poller = new Poller<Upd>({ init: ok, getUpdates, handle: ok, log });
  poller.start();
  await until(() => polls.length === 2, "the long poll");
  const t0 = performance.now();
  await poller.stop();
  assert.ok(performance.now() - t0 < 200, `stop took ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(polls.length, 3);
  assert.deepEqual({ ...polls[2], atMs: 0 }, { offset: 42, timeout: 0, limit: 1, atMs: 0 });
});

Deno.test("Poller retries failures with backoff, logs once each way, and a stop cuts the backoff short", async () => {
  const { log, lines } = logRecorder();
  const { polls, getUpdates } = scripted([
    new TypeError("refused"),
    new TypeError("refused"),
    [],
    new Error("x"),
  ]);
  const poller = new Poller<Upd>({
    init: ok,
    getUpdates,
    handle: ok,
    log,
    backoffMs: 50,
    maxBackoffMs: 10_000,
  });
  poller.start();
  await until(() => polls.length === 4, "four polls");
  assert.ok(polls[1]!.atMs - polls[0]!.atMs >= 48);
  assert.ok(polls[2]!.atMs - polls[1]!.atMs >= 98);
  // The fourth poll failed: the backoff restarted at 50 ms; a stop ends that wait at once.
  const t0 = performance.now();
  await poller.stop();
  assert.ok(performance.now() - t0 < 45, `stop took ${(performance.now() - t0).toFixed(0)} ms`);
  assert.deepEqual(lines, [
    "warn Telegram polling failed; retrying",
    "info Telegram polling works again",
    "warn Telegram polling failed; retrying",
  ]);
});

Deno.test("Poller stops for good when Telegram rejects the token", async () => {
  const { log, lines } = logRecorder();
  const { polls, getUpdates } = scripted([]);
  let inits = 0;
  const poller = new Poller<Upd>({
    init: () => {
      inits++;
      return Promise.reject(
        new GrammyError(
          "Call to 'getMe' failed!",
          { ok: false, error_code: 401, description: "Unauthorized" },
          "getMe",
          {},
        ),
      );
    },
    getUpdates,
    handle: ok,
    log,
    backoffMs: 1,
  });
  poller.start();
  await until(() => lines.length === 1, "the error line");
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(inits, 1);
  assert.equal(polls.length, 0);
  assert.deepEqual(lines, ["error Telegram rejected the bot token; chat commands are off"]);
  await poller.stop();
});
