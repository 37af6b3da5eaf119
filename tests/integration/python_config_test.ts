/**
 * A user of the earlier Python collector starts `main.ts` with their old config.yaml (a copy of
 * tests/fixtures/python_collector_config.yaml, run from its own directory so `./data` and `./logs` land there).
 * Only sections the old file lacks are appended, to point Binance, Telegram and NTP at loopback stand-ins.
 * Observed from outside: it starts, sends the start alert with the file's token, writes today's log file and
 * deletes old ones, records the effective config, never shows the token, and stops cleanly on SIGTERM. The same
 * file readable by others is refused with both fixes named.
 */
import assert from "node:assert/strict";
import { startSimulator } from "../../lib/sim/server.ts";
import { type MainProcess, startMain } from "../_main_process.ts";
import { FakeBotApi } from "../telegram/fake_bot_api.ts";
import { sleep } from "./_harness.ts";

const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;
const FIXTURE = new URL("../fixtures/python_collector_config.yaml", import.meta.url).pathname;
const TOKEN = "1234567890:AAFakeTokenForTestsOnly-not_a_real1";
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"];
const DAY_MS = 86_400_000;

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

const logName = (ms: number) => `collector-${new Date(ms).toISOString().slice(0, 10)}.log`;

async function readDirNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

/** Every file under `dir`, as text. */
async function allText(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) { for (const [p, t] of await allText(path)) out.set(p, t); }
    else if (e.isFile) out.set(path, new TextDecoder().decode(await Deno.readFile(path)));
  }
  return out;
}

/** Starts main.ts in `cwd` with `config.yaml`, TELEGRAM_BOT_TOKEN empty; collects stderr and stdout. */
function startInDir(cwd: string): MainProcess {
  return startMain(["config.yaml"], {
    denoFlags: ["--allow-all", "--config", DENO_JSON],
    cwd,
    env: { TELEGRAM_BOT_TOKEN: "" },
    stdout: true,
  });
}

Deno.test("the Python collector's config.yaml runs as it is: starts, logs to a daily file, hides the token, stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "python-config-run-" });
  const sim = await startSimulator({ symbols: SYMBOLS, tickMs: 10 });
  const fake = FakeBotApi.start(TOKEN);
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(FIXTURE)) + `
# Appended by the test: the stand-ins on loopback, the status page on any free port.
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
telegram:
  api_root: ${fake.apiRoot}
ntp_server: 127.0.0.1:9
status:
  port: 0
`,
  );
  await Deno.chmod(config, 0o600);
  // Earlier runs' logs: one past the default 14-day retention, one within it.
  const startMs = Date.now();
  const stale = logName(startMs - 20 * DAY_MS);
  const recent = logName(startMs - 3 * DAY_MS);
  await Deno.mkdir(`${dir}/logs`);
  await Deno.writeTextFile(`${dir}/logs/${stale}`, "old\n");
  await Deno.writeTextFile(`${dir}/logs/${recent}`, "recent\n");

  const main = startInDir(dir);
  let stopped = false;
  try {
    await main.waitForLog(/collector started/, 30_000);
    assert.match(
      main.log,
      /WARN {2}Telegram bot token read from config\.yaml; the TELEGRAM_BOT_TOKEN environment/,
    );
    await fake.waitFor(
      () => fake.textsTo("8451071451").some((t) => t.includes("Collector started")),
      "the start alert, sent with the file's token to the file's chat",
      30_000,
    );
    const runLogs = async () =>
      (await readDirNames(`${dir}/logs`)).filter((n) => /^collector-.*\.log$/.test(n) && n !== recent);
    const runLogText = async () =>
      (await Promise.all((await runLogs()).map((n) => Deno.readTextFile(`${dir}/logs/${n}`)))).join("");
    await waitFor(
      "today's log file with the start line",
      async () => (await runLogText()).includes("collector started"),
    );
    assert.deepEqual(await runLogs(), [logName(Date.now())], "the stale file is deleted, today's is written");
    assert.equal(
      await Deno.readTextFile(`${dir}/logs/${recent}`),
      "recent\n",
      "a file within retention stays",
    );

    const meta = `${dir}/data/_meta`;
    await waitFor("the environment record", async () => (await readDirNames(meta)).length > 0);
    await waitFor("the environment record written whole", async () => {
      const [name] = await readDirNames(meta);
      return name !== undefined && name.endsWith(".json") &&
        (await Deno.readTextFile(`${meta}/${name}`)).endsWith("}\n");
    });
    const [record] = await readDirNames(meta);
    const env = JSON.parse(await Deno.readTextFile(`${meta}/${record}`));
    assert.deepEqual(env.config.symbols, SYMBOLS);
    assert.equal(env.config.maxBufferMb, 500);
    assert.deepEqual(env.config.telegramChatIds, ["8451071451"]);
    assert.equal(env.config.telegramToken, "[redacted]");

    stopped = true;
    assert.equal((await main.stop("SIGTERM")).code, 0, main.tail());
    assert.ok(
      (await runLogText()).includes('INFO  stopping why="SIGTERM"'),
      "the stop line reaches the file",
    );

    const secretParts = [TOKEN, TOKEN.split(":")[1]!];
    const places = new Map([["stderr", main.log], ["stdout", main.stdout], ...await allText(`${dir}/logs`)]);
    for (const [path, text] of await allText(`${dir}/data/_meta`)) places.set(path, text);
    for (const [where, text] of places) {
      for (const s of secretParts) assert.ok(!text.includes(s), `the token must not appear in ${where}`);
    }
  } finally {
    if (!stopped) await main.stop("SIGTERM");
    await fake.close();
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the Python collector's config.yaml readable by others is refused, naming both fixes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "python-config-open-" });
  try {
    await Deno.copyFile(FIXTURE, `${dir}/config.yaml`);
    await Deno.chmod(`${dir}/config.yaml`, 0o644);
    const main = startInDir(dir);
    assert.equal((await main.status).code, 2, main.log);
    // (A dependency may print a Node deprecation warning too.)
    const lines = main.log.split("\n").filter((l) => l.startsWith("config error"));
    assert.equal(lines.length, 1, main.log);
    assert.match(lines[0]!, /^config error: config\.yaml:\d+: telegram_bot_token: .*\(mode 0644\)/);
    assert.ok(lines[0]!.includes("run `chmod 600 config.yaml`"), lines[0]);
    assert.ok(lines[0]!.includes("TELEGRAM_BOT_TOKEN environment variable"), lines[0]);
    assert.ok(!main.log.includes(TOKEN.split(":")[1]!), "the token is not shown");
    assert.deepEqual(await readDirNames(dir), ["config.yaml"], "nothing was started or written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
