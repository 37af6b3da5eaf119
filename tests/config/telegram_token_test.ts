/**
 * Where the Telegram bot token comes from (environment first, else an owner-only config file), and that it never
 * shows in a message, a log line or a serialized config.
 */
import assert from "node:assert/strict";
import { type ConfigEnv, InvalidConfigError, loadConfig, parseConfig, Secret } from "../../lib/config.ts";
import { maskSecrets, REDACTED } from "../../lib/config/secret.ts";
import { withTempDir } from "../temp_dir.ts";

const TOKEN = "1234567890:AAFakeTokenForTestsOnly-not_a_real1";
const ENV_TOKEN = "987654321:EnvTokenForTestsOnly_xxxxxxxxxxxxxxx";
const NO_ENV: ConfigEnv = { get: () => undefined };
const envWith = (token: string): ConfigEnv => ({
  get: (k: string) => k === "TELEGRAM_BOT_TOKEN" ? token : undefined,
});

/** Writes a config with the token at `mode` and loads it with `env`. */
async function loadWithMode(dir: string, mode: number, env = NO_ENV) {
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    path,
    `symbols: [btcusdt]\ntelegram_bot_token: "${TOKEN}"\ntelegram_chat_id: 42\n`,
  );
  await Deno.chmod(path, mode);
  return { path, load: () => loadConfig(path, env) };
}

Deno.test("a token in a file open to group or others is refused, naming both fixes", async () => {
  await withTempDir(async (dir) => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const { path, load } = await loadWithMode(dir, mode);
      const err = await load().then(() => null, (e: unknown) => e);
      assert.ok(err instanceof InvalidConfigError, `mode ${mode.toString(8)}: ${err}`);
      assert.equal(err.problems.length, 1);
      const p = err.problems[0]!;
      assert.equal(p.line, 2);
      assert.equal(p.path, "telegram_bot_token");
      assert.ok(p.message.includes(`chmod 600 ${path}`), p.message);
      assert.ok(p.message.includes("TELEGRAM_BOT_TOKEN environment variable"), p.message);
      assert.ok(p.message.includes(`(mode 0${mode.toString(8)})`), p.message);
      assert.ok(
        !p.message.includes(TOKEN) && !p.message.includes(TOKEN.split(":")[1]!),
        "the token is not shown",
      );
    }
  });
});

Deno.test("a token in an owner-only file is used, with a notice recommending the environment", async () => {
  await withTempDir(async (dir) => {
    for (const mode of [0o600, 0o400]) {
      const { path, load } = await loadWithMode(dir, mode);
      const c = await load();
      assert.ok(c.telegramToken instanceof Secret);
      assert.equal(c.telegramToken.reveal(), TOKEN);
      assert.equal(c.telegramToken.source, path);
      assert.equal(c.notices.length, 1);
      assert.match(
        c.notices[0]!,
        /token read from .*config\.yaml; the TELEGRAM_BOT_TOKEN environment variable/,
      );
      assert.ok(!c.notices[0]!.includes(TOKEN));
    }
  });
});

Deno.test("TELEGRAM_BOT_TOKEN wins over the file, whatever the file's mode", async () => {
  await withTempDir(async (dir) => {
    const { load } = await loadWithMode(dir, 0o644, envWith(ENV_TOKEN));
    const c = await load();
    assert.equal(c.telegramToken?.reveal(), ENV_TOKEN);
    assert.equal(c.telegramToken?.source, "environment");
    assert.equal(c.notices.length, 1);
    assert.match(
      c.notices[0]!,
      /telegram_bot_token in .* is ignored: the TELEGRAM_BOT_TOKEN environment variable/,
    );
  });
  const envOnly = parseConfig("telegram_chat_id: 1\n", "config.yaml", { env: envWith(ENV_TOKEN) });
  assert.equal(envOnly.telegramToken?.reveal(), ENV_TOKEN);
  assert.deepEqual(envOnly.notices, [], "nothing to advise");
  // An empty variable is unset: the owner-only file's token is used.
  const emptyEnv = parseConfig(`telegram_bot_token: ${TOKEN}\n`, "c.yaml", {
    env: envWith(""),
    fileMode: 0o600,
  });
  assert.equal(emptyEnv.telegramToken?.reveal(), TOKEN);
});

Deno.test("a malformed token is an error that does not show the value", () => {
  const cases: [string, string][] = [
    ['"not a token at all"', "is not a Telegram bot token"],
    ["1234567890", "expected a string (the value is not shown"],
    ["[1, 2]", "expected a string (the value is not shown"],
  ];
  for (const [value, detail] of cases) {
    const err = (() => {
      try {
        parseConfig(`flush_interval: 5\ntelegram_bot_token: ${value}\n`, "c.yaml", {
          env: NO_ENV,
          fileMode: 0o600,
        });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof InvalidConfigError, value);
    assert.equal(err.problems[0]!.path, "telegram_bot_token");
    assert.equal(err.problems[0]!.line, 2);
    assert.ok(err.message.includes(detail), err.message);
    assert.ok(
      !err.message.includes("not a token at all") && !err.message.includes("1234567890"),
      err.message,
    );
  }
});

Deno.test("the resolved token never prints: JSON, string, inspect, structuredClone", () => {
  const c = parseConfig(`telegram_bot_token: ${TOKEN}\n`, "c.yaml", { env: NO_ENV, fileMode: 0o600 });
  assert.equal(c.telegramToken?.reveal(), TOKEN, "the token is there to use");
  const renderings = [
    JSON.stringify(c),
    String(c.telegramToken),
    `${c.telegramToken}`,
    Deno.inspect(c, { depth: 10 }),
    JSON.stringify(structuredClone(c)),
    Deno.inspect(structuredClone(c), { depth: 10 }),
  ];
  for (const r of renderings) {
    assert.ok(!r.includes(TOKEN) && !r.includes(TOKEN.split(":")[1]!), r);
  }
  assert.equal(JSON.parse(renderings[0]!).telegramToken, REDACTED);
  assert.ok(renderings[3]!.includes(REDACTED), renderings[3]);
});

Deno.test("maskSecrets() masks secret-named keys, URL credentials and query secrets, and bot-token shapes", () => {
  const masked = maskSecrets({
    kvPath: "https://user:pa55@kv.example.com/db?access_token=abc&region=eu",
    token: "",
    apiKey: "k-123",
    nested: [{ password: "p", note: `bot ${TOKEN} here` }],
    symbols: ["BTCUSDT"],
    flushIntervalSec: 60,
    token2: null,
    secret: new Secret("s", "test"),
  });
  assert.deepEqual(masked, {
    kvPath: `https://${REDACTED}@kv.example.com/db?access_token=${REDACTED}&region=eu`,
    token: "",
    apiKey: REDACTED,
    nested: [{ password: REDACTED, note: `bot ${REDACTED} here` }],
    symbols: ["BTCUSDT"],
    flushIntervalSec: 60,
    token2: null,
    secret: REDACTED,
  });
  assert.ok(!JSON.stringify(masked).includes("pa55") && !JSON.stringify(masked).includes("abc"));
});
