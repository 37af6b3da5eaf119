/**
 * The bot against the fake Bot API (fake_bot_api.ts): delivery, coalescing, pacing, chat commands, ignored
 * chats, 429s, outages, and the missing token. Times are real: Telegram's pacing is one message per chat per
 * second, and these tests check it as the fake saw it.
 */
import assert from "node:assert/strict";
import { coveragePicture } from "../../lib/charts/coverage_picture.ts";
import { DayCoverageReader } from "../../lib/charts/coverage_reader.ts";
import { HEATMAP_WIDTH, heatmapHeight } from "../../lib/charts/heatmap_svg.ts";
import { pngSize } from "../../lib/charts/png.ts";
import { Ledger } from "../../lib/ledger/ledger.ts";
import type { Logger } from "../../lib/log.ts";
import { collectDailyInput } from "../../lib/report/collect.ts";
import { buildDailyReport } from "../../lib/report/daily.ts";
import { formatDailyReport } from "../../lib/report/daily_text.ts";
import type { Alert } from "../../lib/telegram/alerts.ts";
import { startTelegram, type TelegramBot, type TelegramOptions } from "../../lib/telegram/bot.ts";
import { formatStatus } from "../../lib/telegram/format.ts";
import { buildSampleLedger } from "../ledger/_sample_ledger.ts";
import { emptySources, MARKETS, SETTINGS, statusRows } from "./_fixtures.ts";
import { FakeBotApi, type SentMessage } from "./fake_bot_api.ts";

const TOKEN = "123456:TEST-token";
const CHATS = ["1001", "1002"];

function logRecorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: (level, message) => lines.push(`${level} ${message}`), lines };
}

function start(fake: FakeBotApi, log: Logger, options: Partial<TelegramOptions> = {}): TelegramBot {
  const bot = startTelegram({
    token: TOKEN,
    chatIds: CHATS,
    apiRoot: fake.apiRoot,
    log,
    sources: emptySources(),
    settings: SETTINGS,
    pollTimeoutSec: 5,
    diskCheckMs: 0,
    backoffMs: 50,
    coalesce: { settleMs: 300 },
    ...options,
  });
  assert.ok(bot);
  return bot;
}

const reconnectStorm = (n: number): Alert[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: "reconnect",
    market: "spot",
    conn: i % 2 ? "ETHUSDT" : "BTCUSDT",
    downtimeMs: 400 + 100 * i,
  }));

const to = (fake: FakeBotApi, chat: string): SentMessage[] => fake.sent.filter((m) => m.chatId === chat);

/** The gaps (ms) between consecutive messages to each chat. */
function spacing(fake: FakeBotApi): number[] {
  return CHATS.flatMap((chat) => {
    const times = to(fake, chat).map((m) => m.atMs);
    return times.slice(1).map((t, i) => t - times[i]!);
  });
}

Deno.test("startTelegram() without a token logs one line, calls nothing and returns null", async () => {
  const fake = FakeBotApi.start(TOKEN);
  try {
    for (const token of [undefined, "", "  "]) {
      const { log, lines } = logRecorder();
      const bot = startTelegram({
        token,
        chatIds: CHATS,
        apiRoot: fake.apiRoot,
        log,
        sources: emptySources(),
        settings: SETTINGS,
      });
      assert.equal(bot, null);
      assert.deepEqual(lines, ["info Telegram off: TELEGRAM_BOT_TOKEN not set"]);
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(fake.calls, []);
  } finally {
    await fake.close();
  }
});

Deno.test("a reconnect storm reaches every allowed chat as one HTML message with counts", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log } = logRecorder();
  const bot = start(fake, log);
  try {
    for (const a of reconnectStorm(12)) bot.sendAlert(a);
    await fake.waitFor(() => fake.sent.length === 2, "one message per chat");
    // Nothing else follows: the storm was one message.
    await new Promise((r) => setTimeout(r, 500));
    for (const chat of CHATS) {
      const msgs = to(fake, chat);
      assert.equal(msgs.length, 1, chat);
      assert.equal(msgs[0]!.parseMode, "HTML");
      assert.match(
        msgs[0]!.text,
        /^🔗 12 reconnects on spot in the last 1 s \(BTCUSDT ×6, ETHUSDT ×6\), longest down 1\.5s$/,
      );
    }
    assert.equal(bot.stats.sent, 2);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

Deno.test("never more than one message per chat per second, replies included", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log } = logRecorder();
  const bot = start(fake, log);
  try {
    await fake.waitFor(() => fake.calls.some((c) => c.method === "getUpdates"), "polling");
    bot.sendAlert({ kind: "start", version: "0.9.0", dataDir: "data", markets: MARKETS });
    fake.message({ id: 1001 }, "/help");
    await new Promise((r) => setTimeout(r, 150));
    bot.sendAlert({ kind: "stop", version: "0.9.0", reason: "test", uptimeMs: 1000 });
    bot.post("📈 <b>Ticker</b>", "ticker");
    await fake.waitFor(() => fake.sent.length === 5, "five messages", 6000);
    // 1001: start, the /help reply, then stop and ticker merged; 1002: start, then stop and ticker merged.
    assert.deepEqual(to(fake, "1001").map((m) => m.text.split("\n")[0]), [
      "🟢 <b>Collector started</b> v0.9.0",
      "<b>Commands</b>",
      "🔴 <b>Collector stopped</b> v0.9.0: test, up 1s",
    ]);
    assert.match(to(fake, "1002")[1]!.text, /up 1s\n\n📈 <b>Ticker<\/b>$/);
    const gaps = spacing(fake);
    assert.equal(gaps.length, 3);
    for (const g of gaps) assert.ok(g >= 1000, `messages ${g} ms apart`);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

Deno.test("/status from an allowed chat gets the table of every symbol; other chats are ignored and counted", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log, lines } = logRecorder();
  const bot = start(fake, log);
  try {
    fake.message({ id: 999 }, "/status");
    fake.message({ id: -100777, type: "group" }, "/gaps@collector_test_bot");
    fake.message({ id: 1001 }, "/status");
    fake.message({ id: 1002 }, "/status@other_bot");
    fake.message({ id: 1002 }, "/stats");
    fake.message({ id: 1002 }, "hello");
    await fake.waitFor(() => fake.sent.length >= 3, "the replies");
    await fake.waitFor(() => bot.stats.updates === 6, "every update handled");
    await new Promise((r) => setTimeout(r, 1200));
    // The stranger, the group and the command for another bot get nothing.
    assert.deepEqual(to(fake, "1002").map((m) => m.text), [
      "Unknown command /stats. /help lists the commands.",
      "Send /help for the commands.",
    ]);
    assert.equal(fake.sent.length, 3);
    const reply = fake.sent[0]!;
    assert.equal(reply.chatId, "1001");
    assert.equal(reply.parseMode, "HTML");
    const table = (html: string) => html.slice(html.indexOf("<pre>"));
    assert.equal(table(reply.text), table(formatStatus(MARKETS, statusRows(), Date.now())));
    for (const m of MARKETS) {
      const block = reply.text.split(`\n${m.market}\n`)[1]!;
      for (const s of m.symbols) assert.match(block, new RegExp(`^${s} `, "m"), `${m.market} ${s}`);
    }
    assert.equal(bot.stats.ignored, 2);
    assert.equal(lines.filter((l) => l.includes("not in telegram_chat_id ignored")).length, 2);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

Deno.test("a 429 from Telegram is waited out by auto-retry and the message goes through", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log, lines } = logRecorder();
  const bot = start(fake, log, { chatIds: ["1001"] });
  try {
    fake.rateLimit("sendMessage", 1);
    bot.sendAlert({ kind: "flush_failed", error: "EIO" });
    await fake.waitFor(() => fake.sent.length === 1, "the message", 4000);
    const sends = fake.calls.filter((c) => c.method === "sendMessage");
    assert.deepEqual(sends.map((c) => c.status), [429, 200]);
    const waited = sends[1]!.atMs - sends[0]!.atMs;
    assert.ok(waited >= 990 && waited < 2500, `retried after ${waited} ms`);
    assert.equal(fake.sent[0]!.text, "❌ Flush failed: EIO");
    assert.deepEqual(bot.stats.refused, 0);
    // auto-retry handled it: our own loop saw no failure.
    assert.ok(!lines.some((l) => l.includes("unreachable")), lines.join("\n"));
  } finally {
    await bot.stop();
    await fake.close();
  }
});

Deno.test("during an outage sendAlert() returns at once, the queue stays bounded, and it drains afterwards", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log, lines } = logRecorder();
  const bot = start(fake, log, { outbox: { capacity: 20 } });
  try {
    await fake.waitFor(() => fake.calls.some((c) => c.method === "getUpdates"), "polling");
    await fake.down();
    let slowest = 0;
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) {
      for (
        const a of [
          ...reconnectStorm(2),
          { kind: "start", version: String(i), dataDir: "d", markets: [] } as Alert,
        ]
      ) {
        const s = performance.now();
        bot.sendAlert(a);
        slowest = Math.max(slowest, performance.now() - s);
      }
    }
    const total = performance.now() - t0;
    assert.ok(total < 300, `3000 alerts took ${total.toFixed(0)} ms`);
    assert.ok(slowest < 20, `slowest sendAlert took ${slowest.toFixed(1)} ms`);
    await new Promise((r) => setTimeout(r, 400));
    const { queued, dropped, sent } = bot.stats;
    assert.equal(sent, 0);
    assert.ok(queued <= 2 * 20 + 2, `queued ${queued}`);
    assert.ok(dropped >= 2 * (1000 - 21), `dropped ${dropped}`);

    fake.up();
    await fake.waitFor(
      () => CHATS.every((c) => to(fake, c).some((m) => m.text.includes("2000 reconnects"))),
      "the backlog",
      8000,
    );
    for (const chat of CHATS) {
      const first = to(fake, chat)[0]!.text;
      assert.match(
        first,
        /^⚠️ \d+ older messages dropped \(queue full\)\n\n🟢 <b>Collector started<\/b> v9\d\d\n/,
      );
      assert.ok(first.length <= 4096);
    }
    assert.ok(lines.includes("warn Telegram unreachable; alerts wait in a bounded queue"));
    assert.ok(lines.includes("info Telegram reachable again"));

    // A proxy answering 502 is an outage too.
    const before = fake.sent.length;
    fake.failWith502 = true;
    bot.sendAlert({ kind: "flush_failed", error: "while 502" });
    await fake.waitFor(() => fake.calls.some((c) => c.status === 502 && c.method === "sendMessage"), "a 502");
    assert.equal(fake.sent.length, before);
    fake.failWith502 = false;
    await fake.waitFor(
      () => fake.sent.filter((m) => m.text.includes("while 502")).length === 2,
      "both chats",
      6000,
    );
  } finally {
    await bot.stop();
    await fake.close();
  }
});

Deno.test("stop() returns promptly while Telegram is down", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log } = logRecorder();
  const bot = start(fake, log);
  await fake.waitFor(() => fake.calls.some((c) => c.method === "getUpdates"), "polling");
  await fake.down();
  bot.sendAlert({ kind: "flush_failed", error: "x" });
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  await bot.stop(500);
  const took = performance.now() - t0;
  assert.ok(took < 1000, `stop took ${took.toFixed(0)} ms`);
  await fake.close();
});

Deno.test("the disk check alerts once while free space stays low", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log } = logRecorder();
  const bot = start(fake, log, {
    diskCheckMs: 50,
    sources: emptySources({ freeBytes: 2 ** 30, totalBytes: 100 * 2 ** 30 }),
    coalesce: { settleMs: 0 },
  });
  try {
    await fake.waitFor(() => fake.sent.length === 2, "the disk alert");
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(fake.sent.map((m) => m.text), [
      "💾 Disk low: 1.00 GiB free for /srv/binance/data (alert below 5.00 GiB)",
      "💾 Disk low: 1.00 GiB free for /srv/binance/data (alert below 5.00 GiB)",
    ]);
    assert.ok(bot.stats.coalescing >= 5, "later checks wait in the hourly window");
  } finally {
    await bot.stop(0);
    await fake.close();
  }
});

Deno.test("transcript: alerts and chat queries as the phone sees them", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log } = logRecorder();
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  await buildSampleLedger(ledger);
  const bot = start(fake, log, {
    chatIds: ["1001"],
    sources: { ...emptySources(), ledger, dailyInput: (d) => collectDailyInput(ledger, d) },
  });
  try {
    await fake.waitFor(() => fake.calls.some((c) => c.method === "getUpdates"), "polling");
    const reportText = formatDailyReport(buildDailyReport(await collectDailyInput(ledger, "2024-01-02")));
    const t0 = Date.now();
    bot.sendAlert({ kind: "start", version: "0.9.0", dataDir: "/srv/binance/data", markets: MARKETS });
    for (const a of reconnectStorm(12)) bot.sendAlert(a);
    bot.sendAlert({
      kind: "gap",
      market: "usdm",
      gap: {
        symbol: "BTCUSDT",
        stream: "depth@100ms",
        kind: "sequence",
        start_time: t0 * 1000 - 2_400_000,
        end_time: t0 * 1000,
        last_update_id: 8_812_331_004,
        resume_update_id: 8_812_331_977,
        reason: "pu 8812331950 != last u 8812331004",
      },
    });
    fake.message({ id: 1001 }, "/status");
    fake.message({ id: 4242 }, "/status");
    fake.message({ id: 1001 }, "/gaps dogeusdt");
    fake.message({ id: 1001 }, "/gaps btcusdt 2024-01-02");
    // Queued before the storm settles, so it leaves ahead of it; resolves once Telegram took it.
    const report = bot.deliverReport("2024-01-02", reportText);
    await report;
    await fake.waitFor(() => fake.sent.length === 6, "every message", 8000);
    bot.sendAlert({ kind: "stop", version: "0.9.0", reason: "SIGTERM", uptimeMs: Date.now() - t0 });
    // stop() drains: the stop notice still goes out, a second after the last message.
    await bot.stop(3000);

    const transcript = fake.sent.map((m) =>
      `[+${((m.atMs - t0) / 1000).toFixed(1)} s → chat ${m.chatId}]\n${m.text}`
    );
    console.log(
      `\n===== Telegram transcript (sendMessage texts, parse_mode HTML) =====\n${transcript.join("\n\n")}\n`,
    );
    console.log(`ignored updates from other chats: ${bot.stats.ignored}`);

    const texts = fake.sent.map((m) => m.text);
    assert.equal(texts.length, 7);
    assert.match(
      texts[0]!,
      /^🟢 <b>Collector started<\/b> v0\.9\.0\nspot: BTCUSDT, ETHUSDT\nusdm: BTCUSDT, ETHUSDT, SOLUSDT\n/,
    );
    // Replies to commands go before waiting alerts.
    assert.match(
      texts[1]!,
      /^<b>Status<\/b> \d\d:\d\d:\d\d UTC\n⚠️ 4\/5 connected, 4\/5 books synced\n<pre>/,
    );
    assert.match(texts[2]!, /^\/gaps: unknown symbol dogeusdt/);
    assert.match(texts[3]!, /^<b>Gaps 2024-01-02<\/b> BTCUSDT\n7 gaps \(5 unrecovered\)/);
    // The report waited behind the replies and left alone (a tracked message is never merged); then the storm
    // summary and the gap, which had settled by then, as one message.
    assert.match(texts[4]!, /^<pre>Report 2024-01-02 \(UTC\)\nCoverage 71\.51%[^]*<\/pre>$/);
    assert.match(
      texts[5]!,
      new RegExp(
        "^🔗 12 reconnects on spot in the last \\d s \\(BTCUSDT ×6, ETHUSDT ×6\\), longest down 1\\.5s\n\n" +
          "🕳 Gap usdm BTCUSDT depth@100ms: sequence, 2\\.4s ids 8812331004→8812331977\n" +
          "pu 8812331950 != last u 8812331004$",
      ),
    );
    assert.match(texts[6]!, /^🔴 <b>Collector stopped<\/b> v0\.9\.0: SIGTERM, up \ds$/);
    assert.equal(bot.stats.ignored, 1);
    for (const g of spacing(fake)) assert.ok(g >= 1000, `messages ${g} ms apart`);
  } finally {
    await bot.stop();
    await fake.close();
    ledger.close();
  }
});

Deno.test("deliverReport() resolves when every chat took the report; a retry sends it only where it failed", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log } = logRecorder();
  const bot = start(fake, log);
  try {
    fake.failSends(/^<pre>Report 2024-01-02/, 500, 1);
    // The first chat's copy is answered 500; the second chat's goes through.
    await assert.rejects(
      bot.deliverReport("2024-01-02", "Report 2024-01-02 (UTC)\n⚠️ Nothing recorded on this day\n"),
      /Telegram message to chat 1001 not delivered: 500 Internal Server Error/,
    );
    assert.deepEqual(fake.textsTo("1002"), [
      "<pre>Report 2024-01-02 (UTC)\n⚠️ Nothing recorded on this day</pre>",
    ]);
    assert.deepEqual(fake.textsTo("1001"), []);
    await bot.deliverReport("2024-01-02", "Report 2024-01-02 (UTC)\n⚠️ Nothing recorded on this day\n");
    assert.equal(fake.textsTo("1001").length, 1);
    assert.equal(fake.textsTo("1002").length, 1, "no second copy for the chat that took it");
    // Another day's report goes to both.
    await bot.deliverReport("2024-01-03", "Report 2024-01-03 (UTC)\n");
    assert.deepEqual(fake.sent.map((m) => m.chatId).slice(-2).sort(), CHATS);
  } finally {
    await bot.stop();
    await fake.close();
  }
});

/** A picture like the daily report's, drawn from the sample ledger's day. */
async function samplePicture(ledger: Ledger) {
  const picture = await coveragePicture(await new DayCoverageReader(ledger).read("2024-01-02"));
  assert.ok(picture);
  return picture;
}

Deno.test("deliverReport() sends the text, then the heatmap with sendPhoto; a retry resends only what failed", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log } = logRecorder();
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  await buildSampleLedger(ledger);
  const bot = start(fake, log);
  try {
    const picture = await samplePicture(ledger);
    fake.rateLimit("sendPhoto", 120, 1); // beyond auto-retry's wait: the first upload fails
    await assert.rejects(
      bot.deliverReport("2024-01-02", "Report 2024-01-02 (UTC)\n", picture),
      /not delivered/,
    );
    assert.equal(fake.sent.length, 2, "the text reached both chats");
    await bot.deliverReport("2024-01-02", "Report 2024-01-02 (UTC)\n", picture);
    assert.equal(fake.sent.length, 2, "no text twice");
    assert.deepEqual(fake.photos.map((p) => p.chatId).sort(), CHATS);
    for (const p of fake.photos) {
      assert.deepEqual([...p.bytes], [...picture.png]);
      assert.deepEqual(pngSize(p.bytes), { width: HEATMAP_WIDTH, height: heatmapHeight(2, 2) });
      assert.equal(p.filename, "coverage-2024-01-02.png");
      assert.equal(p.caption, "Coverage 2024-01-02 (UTC) per hour: all 2 symbols");
    }
    assert.equal(bot.stats.pictures, 2);
  } finally {
    await bot.stop();
    await fake.close();
    ledger.close();
  }
});

Deno.test("/coverage answers with the text, then the day's heatmap as a photo", async () => {
  const fake = FakeBotApi.start(TOKEN);
  const { log } = logRecorder();
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  await buildSampleLedger(ledger);
  const reader = new DayCoverageReader(ledger);
  const bot = start(fake, log, {
    chatIds: ["1001"],
    sources: { ...emptySources(), ledger, coverageDay: (d) => reader.read(d) },
  });
  try {
    fake.message({ id: 1001 }, "/coverage 2024-01-02");
    await fake.waitFor(() => fake.photos.length === 1, "the photo", 10_000);
    assert.match(fake.textsTo("1001")[0]!, /^<b>Coverage 2024-01-02<\/b>\n71\.51% of 5h 30m observed/);
    const [photo] = fake.photos;
    assert.ok(fake.sent[0]!.atMs <= photo!.atMs, "the text first");
    assert.deepEqual(pngSize(photo!.bytes), { width: HEATMAP_WIDTH, height: heatmapHeight(2, 2) });
    fake.message({ id: 1001 }, "/coverage 2023-12-01");
    await fake.waitFor(() => fake.sent.length === 2, "the second reply");
    assert.match(fake.sent[1]!.text, /nothing recorded/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.photos.length, 1, "no picture of a day without data");
  } finally {
    await bot.stop();
    await fake.close();
    ledger.close();
  }
});
