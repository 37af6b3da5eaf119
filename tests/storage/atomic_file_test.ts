import assert from "node:assert/strict";
import { isTempFile, removeTempFiles, writeFileAtomic } from "../../lib/storage/atomic_file.ts";
import { withTempDir } from "../temp_dir.ts";

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("writeFileAtomic() creates parent dirs and leaves no temp file", () =>
  withTempDir(async (dir) => {
    const bytes = crypto.getRandomValues(new Uint8Array(60_000));
    await writeFileAtomic(`${dir}/x/y/z.bin`, bytes);
    assert.deepEqual(await Deno.readFile(`${dir}/x/y/z.bin`), bytes);
    assert.deepEqual(await names(`${dir}/x/y`), ["z.bin"]);
  }));

Deno.test("writeFileAtomic() replaces a pre-existing file whole", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/f.bin`;
    await Deno.writeFile(path, new Uint8Array(5000).fill(7));
    const fresh = new Uint8Array([1, 2, 3]);
    await writeFileAtomic(path, fresh);
    assert.deepEqual(await Deno.readFile(path), fresh);
    assert.deepEqual(await names(dir), ["f.bin"]);
  }));

Deno.test("writeFileAtomic() removes its temp file when the rename fails", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/target/inner`, { recursive: true });
    await assert.rejects(writeFileAtomic(`${dir}/target`, new Uint8Array([1])));
    assert.deepEqual(await names(dir), ["target"]);
  }));

Deno.test("writeFileAtomic() writes pieces made as it goes; a piece that fails leaves the old file and no temp", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/m.json`;
    async function* pieces(fail: boolean) {
      for (let i = 0; i < 5; i++) {
        if (fail && i === 3) throw new Error("piece 3 failed");
        yield new TextEncoder().encode(`piece ${i};`);
      }
    }
    await writeFileAtomic(path, pieces(false));
    const whole = "piece 0;piece 1;piece 2;piece 3;piece 4;";
    assert.equal(await Deno.readTextFile(path), whole);
    await assert.rejects(writeFileAtomic(path, pieces(true)), /piece 3 failed/);
    assert.equal(await Deno.readTextFile(path), whole);
    assert.deepEqual(await names(dir), ["m.json"]);
  }));

Deno.test("removeTempFiles() removes only crash leftovers, recursively", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/a/b`, { recursive: true });
    const leftover = `${dir}/a/b/part.parquet.tmp-0123456789abcdef`;
    await Deno.writeTextFile(leftover, "partial");
    await Deno.writeTextFile(`${dir}/a/b/part.parquet`, "keep");
    await Deno.writeTextFile(`${dir}/a/notes.tmp-x`, "keep");
    assert.deepEqual(await removeTempFiles(dir), [leftover]);
    assert.deepEqual(await names(`${dir}/a/b`), ["part.parquet"]);
    assert.deepEqual(await names(`${dir}/a`), ["b", "notes.tmp-x"]);
    assert.deepEqual(await removeTempFiles(`${dir}/missing`), []);
  }));

Deno.test("isTempFile() matches the writer's temp names", () => {
  assert.ok(isTempFile("checksums.json.tmp-00ff00ff00ff00ff"));
  assert.ok(!isTempFile("checksums.json"));
  assert.ok(!isTempFile("x.tmp-0123"));
});
