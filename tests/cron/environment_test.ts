import assert from "node:assert/strict";
import { cpus } from "node:os";
import { join } from "node:path";
import { environmentPath, registerEnvironment, runEnvironment } from "../../cron/environment.ts";
import { parseConfig } from "../../lib/config.ts";
import { REDACTED } from "../../lib/config/secret.ts";
import { gitCommit, lockedPackages } from "../../lib/env_info.ts";
import { sha256Hex } from "../../lib/storage/manifest.ts";
import { fakeCron, onlyRegistration } from "./_fake_cron.ts";

Deno.test("lockedPackages() returns deno.lock's specifiers", () => {
  const lock = JSON.stringify({
    version: "5",
    specifiers: { "npm:yaml@2.9.1": "2.9.1", "npm:grammy@1.46.0": "1.46.0" },
    npm: { "yaml@2.9.1": { integrity: "sha512-x" } },
  });
  assert.deepEqual(lockedPackages(lock), { "npm:yaml@2.9.1": "2.9.1", "npm:grammy@1.46.0": "1.46.0" });
  assert.equal(lockedPackages("{not json"), null);
  assert.equal(lockedPackages('{"version":"5"}'), null);
});

async function git(dir: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd: dir, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** A temp git repo with one commit, a config file and a lock file. */
async function makeRepo(): Promise<{ dir: string; head: string }> {
  const dir = await Deno.makeTempDir({ prefix: "env_test_" });
  await Deno.writeTextFile(join(dir, "config.yaml"), "symbols: [BTCUSDT]\n");
  await Deno.writeTextFile(
    join(dir, "deno.lock"),
    JSON.stringify({ version: "5", specifiers: { "npm:yaml@2.9.1": "2.9.1" } }),
  );
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "add", ".");
  await git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init");
  return { dir, head: await git(dir, "rev-parse", "HEAD") };
}

Deno.test("runEnvironment() writes the day's environment record atomically beside the data", async () => {
  const { dir, head } = await makeRepo();
  try {
    const dataDir = join(dir, "data");
    const nowMs = Date.UTC(2026, 0, 5, 0, 0, 3);
    const deps = {
      dataDir,
      configPath: join(dir, "config.yaml"),
      lockPath: join(dir, "deno.lock"),
      repoDir: dir,
    };
    const { path, info } = await runEnvironment(deps, nowMs);
    assert.equal(path, join(dataDir, "_meta", "environment-2026-01-05.json"));
    assert.equal(path, environmentPath(dataDir, nowMs));
    const written = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(written, info);
    assert.equal(info.recorded_at, "2026-01-05T00:00:03.000Z");
    assert.equal(info.os, Deno.build.os);
    assert.equal(info.arch, Deno.build.arch);
    assert.equal(info.kernel, Deno.osRelease());
    assert.equal(info.hostname, Deno.hostname());
    assert.deepEqual([info.deno, info.v8, info.typescript], [
      Deno.version.deno,
      Deno.version.v8,
      Deno.version.typescript,
    ]);
    assert.deepEqual(info.packages, { "npm:yaml@2.9.1": "2.9.1" });
    assert.equal(info.config_sha256, await sha256Hex(new TextEncoder().encode("symbols: [BTCUSDT]\n")));
    assert.equal(info.git_commit, head);
    assert.equal(info.cpu_cores, cpus().length);
    assert.equal(info.cpu_model, cpus()[0]!.model);
    assert.ok(info.cpu_cores! >= 1 && info.cpu_model!.length > 0);
    assert.equal(info.memory_total_bytes, Deno.systemMemoryInfo().total);
    const meta = [...Deno.readDirSync(join(dataDir, "_meta"))].map((e) => e.name);
    assert.deepEqual(meta, ["environment-2026-01-05.json"], "no temp file is left");

    // Missing files become nulls, not errors.
    const { info: sparse } = await runEnvironment(
      { ...deps, configPath: join(dir, "nope.yaml"), lockPath: join(dir, "nope.lock"), repoDir: dataDir },
      nowMs,
    );
    assert.deepEqual([sparse.config_sha256, sparse.packages, sparse.config], [null, null, null]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runEnvironment() records the effective config values with every secret masked", async () => {
  const token = "1234567890:AAFakeTokenForTestsOnly-not_a_real1";
  const kvSecret = "kv-pa55w0rd";
  const config = parseConfig(
    [
      "symbols: [solusdt, BTCUSDT]",
      "flush_interval: 30",
      `telegram_bot_token: "${token}"`,
      "telegram_chat_id: 8451071451",
      `kv_path: https://admin:${kvSecret}@kv.example.com/db?access_token=${kvSecret}`,
      "cloud_remote: gdrive",
    ].join("\n"),
    "config.yaml",
    { env: { get: () => undefined }, fileMode: 0o600 },
  );
  assert.equal(config.telegramToken?.reveal(), token, "the config holds the real token");
  const dir = await Deno.makeTempDir({ prefix: "env_config_" });
  try {
    const deps = { dataDir: dir, config, configPath: "nope.yaml", lockPath: "nope.lock", repoDir: dir };
    const { path, info } = await runEnvironment(deps, Date.UTC(2026, 0, 5));
    const text = await Deno.readTextFile(path);
    assert.deepEqual(JSON.parse(text), info);
    const c = info.config!;
    assert.deepEqual(c.symbols, ["SOLUSDT", "BTCUSDT"]);
    assert.equal(c.flushIntervalSec, 30);
    assert.equal(c.logRetentionDays, 14);
    assert.equal(c.cloudRemote, "gdrive");
    assert.deepEqual(c.telegramChatIds, ["8451071451"]);
    const spot = (c.markets as Record<string, Record<string, unknown>>).spot!;
    assert.equal(spot.restUrl, "https://api.binance.com");
    assert.deepEqual(spot.streams, ["depth@100ms", "aggTrade", "kline_1m", "bookTicker"]);
    assert.equal(c.telegramToken, REDACTED);
    assert.equal(c.kvPath, `https://${REDACTED}@kv.example.com/db?access_token=${REDACTED}`);
    for (const secret of [token, token.split(":")[1]!, kvSecret]) {
      assert.ok(!text.includes(secret), `the record must not hold ${secret}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "gitCommit() reads HEAD from .git files when git may not run (packed refs, worktrees)",
  permissions: { read: true, write: true, run: false },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "env_git_" });
    try {
      const head = "0123456789abcdef0123456789abcdef01234567";
      const other = "89abcdef0123456789abcdef0123456789abcdef";
      await Deno.mkdir(join(dir, "repo", ".git", "refs", "heads"), { recursive: true });
      await Deno.writeTextFile(join(dir, "repo", ".git", "HEAD"), "ref: refs/heads/main\n");
      await Deno.writeTextFile(join(dir, "repo", ".git", "refs", "heads", "main"), `${head}\n`);
      assert.equal(await gitCommit(join(dir, "repo")), head, "loose ref");

      await Deno.remove(join(dir, "repo", ".git", "refs", "heads", "main"));
      await Deno.writeTextFile(
        join(dir, "repo", ".git", "packed-refs"),
        `# pack-refs with: peeled fully-peeled sorted\n${other} refs/heads/dev\n${head} refs/heads/main\n`,
      );
      assert.equal(await gitCommit(join(dir, "repo")), head, "packed ref");

      // A linked worktree: `.git` is a file pointing at its gitdir, whose `commondir` holds the refs.
      const wtGit = join(dir, "repo", ".git", "worktrees", "wt");
      await Deno.mkdir(wtGit, { recursive: true });
      await Deno.writeTextFile(join(wtGit, "HEAD"), "ref: refs/heads/dev\n");
      await Deno.writeTextFile(join(wtGit, "commondir"), "../..\n");
      await Deno.mkdir(join(dir, "wt"));
      await Deno.writeTextFile(join(dir, "wt", ".git"), `gitdir: ${wtGit}\n`);
      assert.equal(await gitCommit(join(dir, "wt")), other, "worktree");

      await Deno.writeTextFile(join(wtGit, "HEAD"), `${head}\n`);
      assert.equal(await gitCommit(join(dir, "wt")), head, "detached HEAD");
      assert.equal(await gitCommit(dir), null, "not a repository");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("registerEnvironment() registers a daily run with a backoff schedule", () => {
  const { cron, registered } = fakeCron();
  const job = registerEnvironment({ dataDir: "data", configPath: "c", lockPath: "l", repoDir: "." }, cron);
  assert.equal(onlyRegistration(registered, "environment").schedule, "0 0 * * *");
  assert.equal(job.name, "environment");
});
