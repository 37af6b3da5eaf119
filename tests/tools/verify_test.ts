import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../tools/verify.ts";
import { writeDataDir } from "../report/_data_dir.ts";

async function run(args: string[]): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const code = await main(args, (t) => out.push(t));
  return { code, text: out.join("\n") };
}

Deno.test("verify: passes, then names a corrupted, a deleted and an unlisted file with a non-zero exit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const paths = await writeDataDir(dir);
    const clean = await run([dir]);
    assert.equal(clean.code, 0, clean.text);
    assert.match(clean.text, /files: 5 in manifest, 5 on disk, 5 ok\n/);
    assert.match(clean.text, /gaps \(parquet\): 2, 2 unrecovered, 3m 0s\n/);
    assert.match(clean.text, /\nOK$/);

    // One flipped byte in the middle of a file.
    const corrupt = paths[1]!;
    const bytes = await Deno.readFile(join(dir, corrupt));
    bytes[bytes.length >> 1]! ^= 0x01;
    await Deno.writeFile(join(dir, corrupt), bytes);
    const afterCorrupt = await run([dir]);
    assert.equal(afterCorrupt.code, 1);
    assert.ok(afterCorrupt.text.includes(`SHA256     ${corrupt}\n`), afterCorrupt.text);
    assert.match(afterCorrupt.text, /\nFAILED: \d+ problems in 1 files$/);

    const deleted = paths[2]!;
    await Deno.remove(join(dir, deleted));
    const afterDelete = await run([dir]);
    assert.equal(afterDelete.code, 1);
    assert.ok(afterDelete.text.includes(`MISSING    ${deleted}\n`), afterDelete.text);

    const extra = paths[3]!.replace(/part-\d\d-\d+-\d+\.parquet$/, "part-99-extra.parquet");
    await Deno.copyFile(join(dir, paths[3]!), join(dir, extra));
    const afterExtra = await run([dir]);
    assert.equal(afterExtra.code, 1);
    assert.ok(afterExtra.text.includes(`UNLISTED   ${extra}\n`), afterExtra.text);
    assert.match(afterExtra.text, /\nFAILED: \d+ problems in 3 files$/);

    // The task entry point: the same verdict as an exit code of the process.
    const proc = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-env", "tools/verify.ts", dir],
      cwd: new URL("../..", import.meta.url),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(proc.stdout);
    assert.equal(proc.code, 1, new TextDecoder().decode(proc.stderr));
    assert.ok(stdout.includes(corrupt) && stdout.includes(deleted) && stdout.includes(extra), stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify: a missing data dir or bad arguments exit 2", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.remove(dir);
  const missing = await run([dir]);
  assert.equal(missing.code, 2);
  assert.match(missing.text, /^verify: /);
  assert.equal((await run(["a", "b"])).code, 2);
  assert.equal((await run(["--bogus"])).code, 2);
  assert.equal((await run(["--help"])).code, 0);
});
