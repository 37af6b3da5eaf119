import assert from "node:assert/strict";
import { NotDeliveredError, Outbox } from "../../lib/telegram/outbox.ts";

Deno.test("Outbox: at most one message per chat per interval; chats do not wait for each other", () => {
  const box = new Outbox({ minIntervalMs: 1000 });
  box.push("A", "a1");
  box.push("B", "b1");
  assert.deepEqual(box.take(0), { chatId: "A", text: "a1", parts: 1, reply: false });
  assert.deepEqual(box.take(0), { chatId: "B", text: "b1", parts: 1, reply: false });
  box.push("A", "a2");
  assert.equal(box.take(999), null);
  assert.equal(box.nextReadyMs(), 1000);
  assert.equal(box.take(1000)?.text, "a2");
  assert.equal(box.nextReadyMs(), null);
  assert.equal(box.take(5000), null);
});

Deno.test("Outbox: waiting alerts merge into one message up to maxChars", () => {
  const box = new Outbox({ maxChars: 20 });
  for (const t of ["aaaa", "bbbb", "cccc", "dddddddd"]) box.push("A", t);
  // "aaaa\n\nbbbb\n\ncccc" is 16 characters; adding the next would make 26.
  assert.deepEqual(box.take(0), { chatId: "A", text: "aaaa\n\nbbbb\n\ncccc", parts: 3, reply: false });
  assert.deepEqual(box.take(1000), { chatId: "A", text: "dddddddd", parts: 1, reply: false });
});

Deno.test("Outbox: replies go before alerts, in their own order, and are never merged", () => {
  const box = new Outbox();
  box.push("A", "alert1");
  box.push("A", "alert2");
  box.push("A", "reply1", { reply: true });
  box.push("A", "reply2", { reply: true });
  const texts = [0, 1000, 2000].map((t) => box.take(t)?.text);
  assert.deepEqual(texts, ["reply1", "reply2", "alert1\n\nalert2"]);
});

Deno.test("Outbox: a full queue drops its oldest messages and says so in the next one", () => {
  const box = new Outbox({ capacity: 3 });
  for (let i = 1; i <= 5; i++) box.push("A", `m${i}`);
  assert.equal(box.size, 3);
  assert.equal(box.dropped, 2);
  assert.equal(box.take(0)?.text, "⚠️ 2 older messages dropped (queue full)\n\nm3\n\nm4\n\nm5");
  box.push("A", "m6");
  assert.equal(box.take(1000)?.text, "m6");
  assert.throws(() => new Outbox({ capacity: 0 }), RangeError);
});

Deno.test("Outbox: a message put back after a failure goes first, still paced", () => {
  const box = new Outbox();
  box.push("A", "first", { reply: true });
  box.push("A", "second");
  const m = box.take(0)!;
  box.putBack(m);
  assert.equal(box.take(500), null);
  assert.deepEqual(box.take(1000), m);
  assert.equal(box.take(2000)?.text, "second");
});

Deno.test("Outbox: pacing restarts when the call for a message ends", () => {
  const box = new Outbox({ minIntervalMs: 1000 });
  box.push("A", "a1", { reply: true });
  box.push("A", "a2", { reply: true });
  box.take(0);
  box.done("A", 300);
  assert.equal(box.nextReadyMs(), 1300);
  assert.equal(box.take(1299), null);
  assert.equal(box.take(1300)?.text, "a2");
  // An end reported late (before the last take) does not move pacing back.
  box.done("A", 100);
  box.push("A", "a3");
  assert.equal(box.nextReadyMs(), 2300);
  box.done("unknown chat", 5000);
});

Deno.test("Outbox: chats take turns", () => {
  const box = new Outbox({ minIntervalMs: 0 });
  box.push("A", "a1", { reply: true });
  box.push("A", "a2", { reply: true });
  box.push("B", "b1", { reply: true });
  assert.deepEqual([box.take(0), box.take(0), box.take(0)].map((m) => m?.text), ["a1", "b1", "a2"]);
});

Deno.test("Outbox: a tagged message replaces a queued one of its tag and keeps other messages", () => {
  const box = new Outbox({ minIntervalMs: 1000 });
  box.push("A", "first", { reply: true });
  box.take(0);
  box.push("A", "ticker 1", { tag: "ticker" });
  box.push("A", "gap alert");
  box.push("A", "ticker 2", { tag: "ticker" });
  box.push("A", "flush 1", { tag: "flush" });
  assert.equal(box.size, 3);
  assert.equal(box.take(1000)?.text, "gap alert\n\nticker 2\n\nflush 1");
  // A ticker put back after a failed send is superseded by a newer one queued meanwhile.
  box.push("A", "ticker 3", { tag: "ticker" });
  const m = box.take(2000)!;
  assert.deepEqual(m, { chatId: "A", text: "ticker 3", parts: 1, reply: false, tag: "ticker" });
  box.push("A", "ticker 4", { tag: "ticker" });
  box.putBack(m);
  assert.equal(box.size, 1);
  assert.equal(box.take(3000)?.text, "ticker 4");
});

Deno.test("Outbox: a tracked message is never merged, and is settled when dropped or cleared", () => {
  const outcomes: string[] = [];
  const settle = (name: string) => (err: Error | null) => outcomes.push(`${name}: ${err?.message ?? "sent"}`);
  const box = new Outbox({ capacity: 3 });
  box.push("A", "alert 1");
  box.push("A", "report", { settle: settle("report") });
  box.push("A", "alert 2");
  const first = box.take(0)!;
  assert.equal(first.text, "alert 1");
  assert.equal(first.settle, undefined);
  const report = box.take(1000)!;
  assert.equal(report.text, "report");
  report.settle!(null);
  assert.equal(box.take(2000)?.text, "alert 2");

  box.push("A", "old report", { settle: settle("old") });
  for (let i = 0; i < 3; i++) box.push("A", `alert ${i}`);
  box.push("B", "report B", { settle: settle("B") });
  assert.equal(box.clear((chat) => new NotDeliveredError(chat, "stopped")), 4);
  assert.equal(box.size, 0);
  assert.deepEqual(outcomes, [
    "report: sent",
    "old: Telegram message to chat A not delivered: dropped from a full queue",
    "B: Telegram message to chat B not delivered: stopped",
  ]);
});
