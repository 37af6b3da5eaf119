/**
 * The journal keeper on a journal whose file writes fail on demand (as on a full disk): the failure is reported
 * once, records are refused (counted) while it lasts, reopen attempts fail until the disk works again, and the
 * reopened journal starts with the keeper's markers, followed by what comes next.
 */
import assert from "node:assert/strict";
import { Backoff } from "../../lib/binance/backoff.ts";
import { JournalKeeper } from "../../lib/pipeline/journal_keeper.ts";
import { type JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";
import { JournalWriter, listSegments, segmentPath } from "../../lib/storage/journal.ts";
import { readSegments } from "../../lib/storage/journal_reader.ts";
import { flakyDisk } from "../flaky_disk.ts";

const frame = (i: number): JournalRecord => ({
  localUs: i * 1000,
  market: "spot",
  conn: 1,
  kind: RecordKind.Frame,
  symbol: "",
  text: `frame ${i}`,
});

Deno.test("JournalKeeper: a failing disk is reported once, refused records are counted, and the journal reopens", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keeper-" });
  const { disk, openSegment } = flakyDisk();
  const open = () => JournalWriter.open(dir, { openSegment });
  const failures: unknown[] = [];
  const reopened: number[] = [];
  const keeper = new JournalKeeper(await open(), {
    reopen: open,
    onFailed: (err) => failures.push(err),
    onReopening: (w) => w.append(0, "spot", 0, RecordKind.Crashed, "", ""),
    onReopened: (w) => reopened.push(w.segment),
    backoff: new Backoff({ initialMs: 1, maxMs: 1, jitter: "none" }),
  });
  try {
    assert.ok(keeper.append(frame(1)));
    assert.ok(await keeper.sync());

    disk.full = true;
    assert.ok(keeper.append(frame(2)), "buffered in memory: the disk is not touched yet");
    assert.equal(await keeper.sync(), false, "the write of frame 2 fails");
    assert.ok(keeper.down);
    assert.equal(keeper.append(frame(3)), false);
    assert.equal(keeper.append(frame(4)), false);
    keeper.tick(Date.now());
    assert.equal(failures.length, 1, "one report per outage");
    assert.match(String(failures[0]), /write failed/);
    assert.equal(keeper.errors, 2);

    assert.equal(await keeper.reopen(), false, "the disk is still full");
    assert.ok(keeper.down);
    disk.full = false;
    assert.ok(await keeper.reopen());
    assert.equal(keeper.down, false);
    assert.equal(reopened.length, 1);
    assert.ok(keeper.append(frame(5)));
    assert.ok(await keeper.sync());
  } finally {
    await keeper.close();
  }
  const read = [];
  for await (const r of readSegments(dir)) read.push(r.kind === RecordKind.Frame ? r.text : `kind ${r.kind}`);
  // Frame 2 died with the failed writer; 3 and 4 were refused; the marker opens the reopened journal.
  assert.deepEqual(read, ["frame 1", `kind ${RecordKind.Crashed}`, "frame 5"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("JournalKeeper: without a way to reopen, a failed journal stays down", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keeper-" });
  const { disk, openSegment } = flakyDisk();
  const failures: unknown[] = [];
  const keeper = new JournalKeeper(await JournalWriter.open(dir, { openSegment }), {
    onFailed: (err) => failures.push(err),
    onReopening: () => assert.fail("nothing to reopen"),
    onReopened: () => assert.fail("nothing to reopen"),
  });
  disk.full = true;
  keeper.append(frame(1));
  assert.equal(await keeper.sync(), false);
  disk.full = false;
  assert.equal(await keeper.reopen(), false);
  assert.ok(keeper.down);
  assert.equal(failures.length, 1);
  await keeper.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("JournalKeeper.prune(): segments before the checkpoint's are deleted, or archived first with keep_raw", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keeper-prune-" });
  const archive = `${dir}/_raw`;
  try {
    await Deno.mkdir(`${dir}/wal`);
    for (const id of [1, 2, 3]) await Deno.writeTextFile(segmentPath(`${dir}/wal`, id), `segment ${id}`);
    const keeper = new JournalKeeper(await JournalWriter.open(`${dir}/wal`), {
      onFailed: () => {},
      onReopening: () => {},
      onReopened: () => {},
    });
    try {
      const own = keeper.writer.segment;
      assert.ok(own > 3, `the writer opened a segment of its own (${own})`);
      await keeper.prune(2, archive);
      assert.deepEqual(await listSegments(`${dir}/wal`), [2, 3, own]);
      const gz = await Deno.readFile(`${archive}/${"1".padStart(10, "0")}.wal.gz`);
      const text = await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip")))
        .text();
      assert.equal(text, "segment 1");
      await keeper.prune(own, null);
      assert.deepEqual(await listSegments(`${dir}/wal`), [own]);
      assert.deepEqual([...Deno.readDirSync(archive)].map((e) => e.name), [
        `${"1".padStart(10, "0")}.wal.gz`,
      ]);
    } finally {
      await keeper.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
