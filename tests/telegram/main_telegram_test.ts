/**
 * Telegram as a user of `main.ts` sees it: the collector runs as its own process against the simulator, with the
 * Bot API faked on loopback (token from the environment). Checks the daily report of the previous UTC day sent by
 * the start-up run (on a fresh data directory: "nothing recorded"), the live ticker (each symbol's mid and spread
 * within what the simulator's book showed), the flush report, and that a report Telegram refuses is not marked
 * delivered and goes out at the next start.
 */
import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import { dailyReportKey } from "../../lib/ledger/keys.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import { type MainProcess, startMain } from "../_main_process.ts";
import { FakeBotApi } from "./fake_bot_api.ts";

const TOKEN = "123456:TEST-token";
const CHAT = "1001";
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const MARKETS: Market[] = ["spot", "usdm"];

/** The UTC day before `ms`. */
const dayBefore = (ms: number) => new Date(ms - 86_400_000).toISOString().slice(0, 10);

async function startCollector(sim: Simulator, fake: FakeBotApi, dataDir: string, telegramYaml: string) {
  const configPath = `${dataDir}.yaml`;
  await Deno.writeTextFile(
    configPath,
    `symbols: [${SYMBOLS.join(", ")}]
data_dir: ${dataDir}
log_dir: ${dataDir}/logs
flush_interval: 2
telegram_chat_id: ${CHAT}
telegram:
  api_root: ${fake.apiRoot}
${telegramYaml}
status:
  enabled: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
`,
  );
  return startMain([configPath], { env: { TELEGRAM_BOT_TOKEN: TOKEN } });
}

/** SIGTERM, then the exit code must be 0; returns the log. */
async function stop(run: MainProcess): Promise<string> {
  assert.equal((await run.stop("SIGTERM")).code, 0, run.tail(2000));
  return run.log;
}

/** The messages (parts of merged messages too) sent to the chat that start with `head`. */
function partsTo(fake: FakeBotApi, head: string): string[] {
  return fake.textsTo(CHAT).flatMap((t) => t.split("\n\n")).filter((p) => p.startsWith(head));
}

/** The daily reports sent to the chat (never merged with other messages). */
function reportsTo(fake: FakeBotApi): string[] {
  return fake.textsTo(CHAT).filter((t) => t.startsWith("<pre>Report "));
}

interface TickerRow {
  market: string;
  symbol: string;
  troubled: boolean;
  mid: number | null;
  spreadBp: number | null;
  changeBp: number | null;
  msgsPerSec: number;
}

/** The symbol rows of a ticker's table. */
function tickerRows(text: string): TickerRow[] {
  const table = /<pre>([^]*)<\/pre>/.exec(text)?.[1];
  assert.ok(table, text);
  const rows: TickerRow[] = [];
  let market = "";
  const unescaped = table.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
  for (const line of unescaped.split("\n").slice(1)) {
    if (/^\w+$/.test(line)) {
      market = line;
      continue;
    }
    const m = /^([ !])(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$/.exec(line);
    assert.ok(m, `ticker row: ${line}`);
    // `<.01` is a spread below 0.005 bp (one tick of a high price).
    const num = (s: string) => (s === "-" ? null : s === "<.01" ? 0.004 : Number(s));
    rows.push({
      market,
      symbol: m[2]!,
      troubled: m[1] === "!",
      mid: num(m[3]!),
      spreadBp: num(m[4]!),
      changeBp: num(m[5]!),
      msgsPerSec: Number(m[6]!.replace(/k$/, "e3")),
    });
  }
  return rows;
}

const complete = (rows: TickerRow[]) =>
  rows.length === SYMBOLS.length * MARKETS.length && rows.every((r) => r.mid !== null && r.changeBp !== null);

Deno.test("main.ts: the start-up run reports yesterday (nothing recorded), tickers carry plausible prices, flushes a table", async () => {
  const sim = await startSimulator({ symbols: SYMBOLS, tickMs: 10, truth: true });
  const fake = FakeBotApi.start(TOKEN);
  const dataDir = await Deno.makeTempDir({ prefix: "collector-telegram-" });
  const startedMs = Date.now();
  const run = await startCollector(sim, fake, dataDir, "  ticker_interval: 2\n  flush_report: true");
  let log = "";
  try {
    await fake.waitFor(() => reportsTo(fake).length > 0, "the daily report", 30_000);
    // Two tickers in a row with a price and a change for every symbol: books synced, and a previous ticker.
    await fake.waitFor(
      () => partsTo(fake, "📈 <b>Ticker</b>").filter((t) => complete(tickerRows(t))).length >= 2,
      "two complete tickers",
      60_000,
    );
    await fake.waitFor(() => partsTo(fake, "💾 <b>Flush</b>").length > 0, "a flush report", 30_000);
  } finally {
    log = await stop(run);
  }
  try {
    const reports = reportsTo(fake);
    assert.equal(reports.length, 1, reports.join("\n---\n"));
    const date = reports[0]!.slice("<pre>Report ".length, "<pre>Report ".length + 10);
    assert.ok([dayBefore(startedMs), dayBefore(Date.now())].includes(date), `report of ${date}`);
    assert.match(reports[0]!, /^<pre>Report \d{4}-\d\d-\d\d \(UTC\)\n⚠️ Nothing recorded on this day\n/);
    assert.equal(
      await Deno.readTextFile(`${dataDir}/logs/daily-report-${date}.txt`),
      reports[0]!.replace(/^<pre>|<\/pre>$/g, "") + "\n",
    );
    assert.match(log, new RegExp(`daily report delivered date="?${date}`));

    const tickers = partsTo(fake, "📈 <b>Ticker</b>");
    const full = tickers.filter((t) => complete(tickerRows(t)));
    for (const text of tickers) {
      assert.match(text, /\nRSS [\d.]+ MiB · disk [\d.]+ [KMGT]?i?B free · gaps today \d+\n/);
      assert.ok(text.length < 4096);
    }
    for (const text of full) {
      for (const row of tickerRows(text)) {
        const where = `${row.market} ${row.symbol} in\n${text}`;
        const truth = sim.truth.bookTickers(row.market as Market, row.symbol);
        assert.ok(truth.length > 0, where);
        const lowBid = Math.min(...truth.map((b) => b.bidPrice));
        const highAsk = Math.max(...truth.map((b) => b.askPrice));
        const widest = Math.max(...truth.map((b) => ((b.askPrice - b.bidPrice) / b.bidPrice) * 1e4));
        // The mid is printed to six significant digits.
        const slack = row.mid! * 1e-5;
        assert.ok(
          row.mid! >= lowBid - slack && row.mid! <= highAsk + slack,
          `mid in [${lowBid}, ${highAsk}]: ${where}`,
        );
        assert.ok(
          row.spreadBp! > 0 && row.spreadBp! <= widest * 1.01 + 0.01,
          `spread ≤ ${widest} bp: ${where}`,
        );
        assert.ok(Math.abs(row.changeBp!) < 1000, where);
        assert.ok(row.msgsPerSec > 0, where);
      }
    }
    assert.match(
      partsTo(fake, "💾 <b>Flush</b>")[0]!,
      /^💾 <b>Flush<\/b> [\d:]+ UTC: [\d.k]+ rows, \d+ files, .*\n<pre>table +spot +usdm\n/,
    );
    console.log(
      `\n===== as the chat saw them =====\n${reports[0]}\n\n${full.at(-1)}\n\n${
        partsTo(fake, "💾 <b>Flush</b>")[0]
      }\n`,
    );
  } finally {
    await fake.close();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(`${dataDir}.yaml`);
  }
});

Deno.test("main.ts: a report Telegram refuses is not marked delivered, and the next start sends it", async () => {
  const sim = await startSimulator({ symbols: SYMBOLS, tickMs: 10 });
  const fake = FakeBotApi.start(TOKEN);
  const dataDir = await Deno.makeTempDir({ prefix: "collector-telegram-retry-" });
  const yesterday = dayBefore(Date.now());
  try {
    fake.failSends(/^<pre>Report /, 500, 1);
    const first = await startCollector(sim, fake, dataDir, "  ticker_interval: 0");
    let log1: string;
    try {
      await fake.waitFor(
        () => fake.calls.some((c) => c.status === 500 && String(c.params.text).startsWith("<pre>Report ")),
        "the refused report",
        30_000,
      );
    } finally {
      log1 = await stop(first);
    }
    assert.match(
      log1,
      /start-up cron run failed job="?daily_report.*not delivered: 500 Internal Server Error/,
    );
    assert.deepEqual(reportsTo(fake), []);
    const date = dayBefore(Date.now()) === yesterday ? yesterday : null;
    assert.ok(date, "the test did not cross midnight UTC");
    let ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`);
    try {
      assert.equal((await ledger.kv.get(dailyReportKey(date))).value, null, "not marked delivered");
    } finally {
      ledger.close();
    }

    const second = await startCollector(sim, fake, dataDir, "  ticker_interval: 0");
    try {
      await fake.waitFor(
        () => reportsTo(fake).length > 0,
        "the report at the next start",
        30_000,
      );
    } finally {
      await stop(second);
    }
    assert.deepEqual(reportsTo(fake).map((t) => t.split("\n").slice(0, 2).join("\n")), [
      `<pre>Report ${date} (UTC)\n⚠️ Nothing recorded on this day`,
    ]);
    ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`);
    try {
      const marker = (await ledger.kv.get<{ deliveredAtMs: number }>(dailyReportKey(date))).value;
      assert.ok(marker && marker.deliveredAtMs > 0, "marked delivered");
    } finally {
      ledger.close();
    }
  } finally {
    await fake.close();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(`${dataDir}.yaml`).catch(() => {});
  }
});
