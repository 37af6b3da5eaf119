import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Rclone,
  RcloneError,
  RcloneTimeoutError,
  remoteFile,
  RemoteMismatchError,
  remoteRoot,
} from "../../lib/cloud/rclone.ts";
import { cloudEnv, H7 } from "./_env.ts";

Deno.test("remoteRoot() and remoteFile() build rclone paths", () => {
  assert.equal(remoteRoot("gdrive", "binance-data"), "gdrive:binance-data");
  assert.equal(remoteRoot("gdrive:", "a/b/"), "gdrive:a/b");
  assert.equal(remoteRoot("gdrive", ""), "gdrive:");
  assert.throws(() => remoteRoot("", "x"), RangeError);
  assert.equal(remoteFile("gdrive:", "spot/x.parquet"), "gdrive:spot/x.parquet");
  assert.equal(remoteFile("t:/tmp/r", "spot/x.parquet"), "t:/tmp/r/spot/x.parquet");
});

Deno.test("Rclone copies a file, reads its size and sha256, checks and deletes it (real rclone)", async () => {
  await using env = await cloudEnv();
  const rclone = env.rclone();
  const entry = await env.addFile({ firstUs: H7, tag: "0a1b2c3d", size: 3000 });
  const remote = remoteFile(env.root, entry.path);
  assert.equal(await rclone.stat(remote), null, "nothing there before the copy");
  await rclone.copyFile(join(env.dataDir, entry.path), remote);
  assert.deepEqual(await env.remoteBytes(entry.path), await Deno.readFile(join(env.dataDir, entry.path)));
  assert.deepEqual(await rclone.stat(remote), { size: 3000, sha256: entry.sha256 });
  assert.equal(await rclone.downloadSha256(remote), entry.sha256);
  await rclone.check(remote, entry);

  await assert.rejects(
    rclone.check(remote, { bytes: 2999, sha256: entry.sha256 }),
    (e: unknown) => e instanceof RemoteMismatchError && /3000 bytes, expected 2999/.test(e.message),
  );
  await assert.rejects(
    rclone.check(remote, { bytes: 3000, sha256: "0".repeat(64) }),
    (e: unknown) => e instanceof RemoteMismatchError && e.problem.startsWith(`sha256 ${entry.sha256}`),
  );
  await rclone.deleteFile(remote);
  assert.equal(await env.remoteBytes(entry.path), null);
  await rclone.deleteFile(remote); // already gone: no error
  await assert.rejects(rclone.check(remote, entry), /no such file on the remote/);
});

Deno.test("Rclone.check() hashes by download on a remote that stores no sha256 (crypt over local)", async () => {
  await using env = await cloudEnv();
  const obscured = new TextDecoder().decode(
    (await new Deno.Command("rclone", { args: ["obscure", "test-secret"], stdout: "piped" }).output()).stdout,
  ).trim();
  await Deno.writeTextFile(
    env.configPath,
    `[testremote]\ntype = local\n\n[sealed]\ntype = crypt\nremote = testremote:${env.remoteDir}\n` +
      `password = ${obscured}\n`,
  );
  const rclone = env.rclone();
  const entry = await env.addFile({ firstUs: H7, tag: "0a1b2c3d" });
  const remote = remoteFile("sealed:", entry.path);
  await rclone.copyFile(join(env.dataDir, entry.path), remote);
  assert.deepEqual(await rclone.stat(remote), { size: entry.bytes, sha256: null });
  await rclone.check(remote, entry);
  await assert.rejects(rclone.check(remote, { ...entry, sha256: "f".repeat(64) }), RemoteMismatchError);
});

Deno.test("Rclone reports a failed call with its exit code and stderr", async () => {
  await using env = await cloudEnv();
  const rclone = env.rclone();
  const err = await rclone.copyFile(join(env.dataDir, "missing.parquet"), `${env.root}/x.parquet`)
    .then(() => null, (e) => e);
  assert.ok(err instanceof RcloneError);
  assert.equal(err.command, "copyto");
  assert.ok(err.code !== null && err.code > 0);
  assert.match(err.stderr, /missing\.parquet/);
  assert.match(err.message, /^rclone copyto exited with \d+: /);
});

Deno.test("Rclone kills a call that outlives its timeout", async () => {
  await using env = await cloudEnv();
  const binary = await env.script("slow-rclone", "echo stalled >&2; exec sleep 10");
  const started = Date.now();
  const err = await new Rclone({ binary, timeoutMs: 200 }).stat("testremote:/x").then(() => null, (e) => e);
  assert.ok(err instanceof RcloneTimeoutError);
  assert.equal(err.timeoutMs, 200);
  assert.match(err.message, /timed out after 200 ms: stalled/);
  assert.ok(Date.now() - started < 5000);
});

Deno.test("Rclone fails with RcloneError when the binary does not exist", async () => {
  const err = await new Rclone({ binary: "/nonexistent/rclone" }).stat("x:y").then(() => null, (e) => e);
  assert.ok(err instanceof RcloneError);
  assert.ok(err.cause instanceof Deno.errors.NotFound);
  assert.throws(() => new Rclone({ timeoutMs: 0 }), RangeError);
});
