/**
 * The whole service as a user runs it: `main.ts` in its own process against the simulator, with Telegram pointed
 * at a fake Bot API (token from the environment) and the status server on. Checks the start alert, a `/status`
 * reply with every symbol, `/health` turning 200 with every book synced, `/metrics` (gzip, as Prometheus asks; the totals only, as configured, and per symbol when asked),
 * and the stop alert after SIGTERM with exit code 0.
 */
import assert from "node:assert/strict";
import { startSimulator } from "../../lib/sim/server.ts";
import { freePort, startMain } from "../_main_process.ts";
import { FakeBotApi } from "../telegram/fake_bot_api.ts";
import { sleep } from "./_harness.ts";

const TOKEN = "123456:TEST-token";

async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

Deno.test("service: Telegram alerts and /status, status page health and metrics, clean stop", async () => {
  const sim = await startSimulator({ symbols: ["BTCUSDT", "ETHUSDT"], tickMs: 10 });
  const fake = FakeBotApi.start(TOKEN);
  const dataDir = await Deno.makeTempDir({ prefix: "collector-service-" });
  const port = freePort();
  const configPath = `${dataDir}.yaml`;
  await Deno.writeTextFile(
    configPath,
    `symbols: [BTCUSDT, ETHUSDT]
data_dir: ${dataDir}
log_dir: ${dataDir}/logs
flush_interval: 2
telegram_chat_id: 1001
telegram:
  api_root: ${fake.apiRoot}
status:
  port: ${port}
  metrics_per_symbol: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
`,
  );
  const main = startMain([configPath], { env: { TELEGRAM_BOT_TOKEN: TOKEN } });
  const base = `http://127.0.0.1:${port}`;
  try {
    await fake.waitFor(
      () => fake.textsTo("1001").some((t) => t.includes("Collector started")),
      "start alert",
      20_000,
    );

    await waitFor("every book synced (/health 200)", async () => {
      const r = await fetch(`${base}/health`).catch(() => null);
      await r?.body?.cancel();
      return r?.status === 200;
    });
    // As Prometheus scrapes: gzip asked for, gzip sent. metrics_per_symbol: false leaves the totals only.
    const scrape = await fetch(`${base}/metrics`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(scrape.headers.get("content-encoding"), "gzip");
    const totals = await scrape.text();
    assert.match(totals, /^binance_collector_market_books_synced\{market="spot"\} 2$/m);
    assert.doesNotMatch(totals, /symbol=/);
    const perSymbol = await (await fetch(`${base}/metrics?per_symbol=1`)).text();
    assert.match(perSymbol, /^binance_collector_book_synced\{market="spot",symbol="ETHUSDT"\} 1$/m);
    const page = await (await fetch(`${base}/`)).text();
    assert.match(page, /<html/i);

    fake.message({ id: 1001 }, "/status");
    fake.message({ id: 424242 }, "/status"); // not an allowed chat: ignored
    await fake.waitFor(
      () =>
        fake.textsTo("1001").some((t) =>
          t.includes("ETHUSDT") && t.includes("BTCUSDT") && !t.includes("started")
        ),
      "/status reply",
      15_000,
    );
    assert.deepEqual(fake.textsTo("424242"), []);
  } finally {
    const status = await main.stop("SIGTERM");
    try {
      assert.equal(status.code, 0, main.tail(2000));
      assert.ok(
        fake.textsTo("1001").some((t) => /stopped/i.test(t)),
        `stop alert sent: ${fake.textsTo("1001").join(" | ")}`,
      );
    } finally {
      await fake.close();
      await sim.close();
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(configPath);
    }
  }
});

Deno.test("service: a taken status port is logged and collection goes on", async () => {
  const sim = await startSimulator({ symbols: ["BTCUSDT"], tickMs: 10 });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dataDir = await Deno.makeTempDir({ prefix: "collector-port-" });
  const configPath = `${dataDir}.yaml`;
  await Deno.writeTextFile(
    configPath,
    `symbols: [BTCUSDT]
data_dir: ${dataDir}
log_dir: ${dataDir}/logs
use_futures: false
status:
  port: ${(taken.addr as Deno.NetAddr).port}
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
`,
  );
  const main = startMain([configPath]);
  try {
    await sleep(4000);
  } finally {
    const status = await main.stop("SIGTERM");
    taken.close();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath);
    assert.equal(status.code, 0, main.tail(1500));
    assert.match(main.log, /status server not started; collecting without it/);
    assert.match(
      main.log,
      /flushed reason="shutdown" files=[1-9]/,
      "data was collected and flushed at the stop",
    );
  }
});
