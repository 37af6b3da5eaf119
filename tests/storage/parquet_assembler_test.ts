import assert from "node:assert/strict";
import { extractRowGroups } from "../../lib/storage/parquet_assembler.ts";
import { decodeParquet } from "../../lib/storage/parquet_file.ts";
import {
  fileSource,
  footerOf,
  memorySource,
  readFileFooter,
  rowGroupsOf,
} from "../../lib/storage/parquet_footer.ts";
import { toRows } from "../../lib/storage/read_rows.ts";
import { decodeStruct, TStruct } from "../../lib/storage/thrift_compact.ts";
import { encoded, stitchParquet, threeGroupTrades } from "./_parquet.ts";

Deno.test("ParquetAssembler joins files' row groups into one file that parquet-wasm reads whole", async () => {
  const parts = [
    encoded("book_snapshots", 40),
    encoded("book_snapshots", 25, 40),
    encoded("book_snapshots", 7, 65),
  ];
  const stitched = await stitchParquet(parts);
  const rows = toRows(decodeParquet(stitched));
  assert.deepEqual(rows, parts.flatMap((p) => toRows(decodeParquet(p))));
  const meta = await footerOf(stitched);
  assert.deepEqual(rowGroupsOf(meta).map((g) => g.rows), [40, 25, 7]);
  // The page index was carried over with its offsets moved: every column chunk's offset index points at pages.
  for (const g of meta.list(4) as TStruct[]) {
    for (const cc of g.list(1) as TStruct[]) {
      const oi = decodeStruct(stitched.subarray(cc.num(4)!, cc.num(4)! + cc.num(5)!));
      const firstPage = (oi.list(1)[0] as TStruct).num(1)!;
      assert.equal(firstPage, cc.struct(3)!.num(9), "the first data page is where the chunk says");
      // Its column index is where the chunk says too: one min and one max per page.
      const ci = decodeStruct(stitched.subarray(cc.num(6)!, cc.num(6)! + cc.num(7)!));
      assert.equal(ci.list(2).length, oi.list(1).length);
    }
  }
});

Deno.test("extractRowGroups() makes a file of some row groups only", async () => {
  const stitched = await threeGroupTrades();
  const footer = await readFileFooter(memorySource(stitched));
  const mini = await extractRowGroups(memorySource(stitched), footer, [2, 0]);
  const all = toRows(decodeParquet(stitched));
  assert.deepEqual(toRows(decodeParquet(mini)), [...all.slice(30), ...all.slice(0, 10)]);
});

Deno.test("extractRowGroups() frees what it read from a file once copied, and a memory source's bytes never", async () => {
  const stitched = await threeGroupTrades();
  const dir = await Deno.makeTempDir();
  const file = await Deno.create(`${dir}/three.parquet`);
  try {
    await file.write(stitched);
    const src = await fileSource(file);
    const reads: Uint8Array[] = [];
    const traced = {
      ...src,
      read: async (at: number, n: number) => {
        const bytes = await src.read(at, n);
        reads.push(bytes);
        return bytes;
      },
    };
    const footer = await readFileFooter(src);
    const mini = await extractRowGroups(traced, footer, [1]);
    assert.deepEqual(toRows(decodeParquet(mini)), toRows(decodeParquet(stitched)).slice(10, 30));
    assert.ok(reads.length > 0 && reads.every((r) => (r.buffer as ArrayBuffer).detached), "each read freed");
    // A memory source's pieces are views of its bytes: they stay whole.
    await extractRowGroups(memorySource(stitched), footer, [1]);
    assert.equal((stitched.buffer as ArrayBuffer).detached, false);
  } finally {
    file.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ParquetAssembler refuses row groups of different schemas", async () => {
  await assert.rejects(stitchParquet([encoded("trades", 3), encoded("klines", 3)]), /different schemas/);
});
