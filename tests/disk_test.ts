import assert from "node:assert/strict";
import { join } from "node:path";
import { diskLevel, diskSpace, MIB } from "../lib/disk.ts";

/** `df -Pk` of `dir`: available and total bytes. */
async function df(dir: string): Promise<{ free: number; total: number }> {
  const out = await new Deno.Command("df", { args: ["-Pk", dir], stdout: "piped" }).output();
  const fields = new TextDecoder().decode(out.stdout).trim().split("\n")[1]!.split(/\s+/);
  return { total: Number(fields[1]) * 1024, free: Number(fields[3]) * 1024 };
}

Deno.test("diskSpace() agrees with df on the filesystem of a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [mine, theirs] = await Promise.all([diskSpace(dir), df(dir)]);
    // Other processes write meanwhile; 64 MiB of slack is plenty between two reads.
    assert.ok(Math.abs(mine.freeBytes - theirs.free) < 64 * MIB, `${mine.freeBytes} vs ${theirs.free}`);
    // df's total is size-in-blocks of the same statfs; it may round to 1 KiB.
    assert.ok(
      Math.abs(mine.totalBytes - theirs.total) < 1024 * 1024,
      `${mine.totalBytes} vs ${theirs.total}`,
    );
    assert.ok(mine.freeBytes > 0 && mine.freeBytes <= mine.totalBytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diskSpace() measures a directory that does not exist yet at its nearest parent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = join(dir, "data", "not", "yet");
    const [a, b] = await Promise.all([diskSpace(missing), diskSpace(dir)]);
    assert.equal(a.totalBytes, b.totalBytes);
    assert.ok(Math.abs(a.freeBytes - b.freeBytes) < 64 * MIB);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diskSpace() rethrows errors other than a missing directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "x");
    await assert.rejects(
      diskSpace(join(file, "below")),
      (err: Error & { code?: string }) => err.code === "ENOTDIR",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diskLevel() compares free bytes with the MiB thresholds", () => {
  const table: [number, string][] = [
    [0, "belowMinimum"],
    [512 * MIB - 1, "belowMinimum"],
    [512 * MIB, "low"],
    [5120 * MIB - 1, "low"],
    [5120 * MIB, "ok"],
  ];
  for (const [free, want] of table) assert.equal(diskLevel(free, 5120, 512), want, `${free}`);
});
