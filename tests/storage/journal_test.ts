import assert from "node:assert/strict";
import {
  type JournalEntry,
  JournalError,
  type JournalRecord,
  type JournalTail,
  JournalWriter,
  type JournalWriterOptions,
  listSegments,
  type SegmentFile,
  segmentPath,
} from "../../lib/storage/journal.ts";
import { readJournal, readSegments } from "../../lib/storage/journal_reader.ts";
import { record } from "./_journal_records.ts";
import { withTempDir } from "../temp_dir.ts";

const append = (w: JournalWriter, r: JournalRecord) =>
  w.append(r.localUs, r.market, r.conn, r.kind, r.symbol, r.text);
const strip = ({ segment: _s, offset: _o, ...rec }: JournalEntry): JournalRecord => rec;

async function readAll(dir: string, from?: { segment: number; offset: number }) {
  const tails: JournalTail[] = [];
  const entries: JournalEntry[] = [];
  for await (const e of readSegments(dir, { from, onTail: (t) => tails.push(t) })) entries.push(e);
  return { entries, tails };
}

/**
 * A real segment file that counts the writer's calls. Its fsync only counts (durability cannot be observed
 * here) and completes at once unless `gate` holds it back.
 */
class CountingFile implements SegmentFile {
  writes = 0;
  syncs = 0;
  gate: Promise<void> | null = null;
  failSync = false;
  constructor(readonly inner: Deno.FsFile) {}
  writeSync(p: Uint8Array): number {
    this.writes++;
    return this.inner.writeSync(p);
  }
  async sync(): Promise<void> {
    this.syncs++;
    if (this.gate) await this.gate;
    if (this.failSync) throw new Error("EIO");
  }
  close(): void {
    this.inner.close();
  }
}

/** Lets completed fsync promises run their handlers. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function counting(files: CountingFile[]): JournalWriterOptions["openSegment"] {
  return (path) => {
    const f = new CountingFile(Deno.openSync(path, { write: true, createNew: true }));
    files.push(f);
    return f;
  };
}

Deno.test("JournalWriter round-trips many records through flushes and segments", () =>
  withTempDir(async (dir) => {
    const records = Array.from({ length: 3000 }, (_, i) => record(i));
    const writer = await JournalWriter.open(dir, {
      bufferBytes: 8192,
      flushBytes: 4096,
      maxSegmentBytes: 256 << 10,
    });
    const positions: [number, number][] = [];
    for (const r of records) {
      const offset = append(writer, r);
      positions.push([writer.lastRecord!.segment, offset]);
      assert.equal(writer.lastRecord!.offset, offset);
    }
    await writer.close();
    const { entries, tails } = await readAll(dir);
    assert.deepEqual(tails, []);
    assert.deepEqual(entries.map(strip), records);
    assert.deepEqual(entries.map((e) => [e.segment, e.offset]), positions);
    assert.ok((await listSegments(dir)).length > 2, "size rotation happened");
    assert.throws(() => append(writer, records[0]!), JournalError);
  }));

Deno.test("JournalWriter rotates by size into consecutive segments of about maxSegmentBytes", () =>
  withTempDir(async (dir) => {
    const max = 4096;
    const writer = await JournalWriter.open(dir, { maxSegmentBytes: max });
    for (let i = 0; i < 400; i++) append(writer, record(i));
    await writer.close();
    const ids = await listSegments(dir);
    assert.deepEqual(ids, ids.map((_, i) => i + 1));
    for (const id of ids.slice(0, -1)) {
      const size = (await Deno.stat(segmentPath(dir, id))).size;
      assert.ok(size >= max && size < max + 4000, `segment ${id} is ${size} bytes`);
    }
    assert.equal((await readAll(dir)).entries.length, 400);
  }));

Deno.test("JournalWriter.rotate() closes the segment durably and returns its id", () =>
  withTempDir(async (dir) => {
    const files: CountingFile[] = [];
    const writer = await JournalWriter.open(dir, { openSegment: counting(files) });
    append(writer, record(1));
    assert.equal(writer.segment, 1);
    assert.equal(await writer.rotate(), 1);
    assert.equal(writer.segment, 2);
    assert.equal(files[0]!.syncs, 1);
    assert.equal((await readAll(dir)).entries.length, 1, "the closed segment is on disk before close()");
    append(writer, record(2));
    await writer.close();
    const { entries } = await readAll(dir);
    assert.deepEqual(entries.map((e) => [e.segment, e.localUs]), [[1, record(1).localUs], [
      2,
      record(2).localUs,
    ]]);
  }));

Deno.test("JournalWriter writes at least every writeIntervalMs and fsyncs at least every syncIntervalMs", () =>
  withTempDir(async (dir) => {
    const files: CountingFile[] = [];
    const writer = await JournalWriter.open(dir, {
      openSegment: counting(files),
      flushBytes: 64 << 10,
      writeIntervalMs: 100,
      syncIntervalMs: 1000,
    });
    const file = files[0]!;
    const counts = () => [file.writes, file.syncs];
    for (let i = 1; i <= 10; i++) append(writer, record(i));
    assert.deepEqual(counts(), [0, 0], "appends stay in memory");
    writer.tick(0);
    assert.deepEqual(counts(), [1, 1]);
    await settle();
    append(writer, record(11));
    writer.tick(50);
    assert.deepEqual(counts(), [1, 1], "too early to write");
    writer.tick(100);
    assert.deepEqual(counts(), [2, 1], "written, not yet fsynced");
    writer.tick(180);
    assert.deepEqual(counts(), [2, 1], "nothing buffered");
    append(writer, record(12));
    writer.tick(999);
    assert.deepEqual(counts(), [3, 1]);
    writer.tick(1000);
    assert.deepEqual(counts(), [3, 2], "written bytes fsynced after a second");
    await settle();
    writer.tick(2500);
    assert.deepEqual(counts(), [3, 2], "nothing new to fsync");
    append(writer, { ...record(13), text: "y".repeat(70_000) });
    assert.deepEqual(counts(), [4, 2], "a full buffer is written without waiting for a tick");

    // A slow fsync is never stacked with another one.
    let release!: () => void;
    file.gate = new Promise((resolve) => (release = resolve));
    writer.tick(3000);
    append(writer, record(14));
    writer.tick(4000);
    writer.tick(5000);
    assert.deepEqual(counts(), [5, 3]);
    release();
    await settle();
    writer.tick(5001);
    assert.deepEqual(counts(), [5, 4]);
    await writer.close();
    assert.equal((await readAll(dir)).entries.length, 14);
  }));

Deno.test("JournalWriter fails loudly once an fsync fails", () =>
  withTempDir(async (dir) => {
    const files: CountingFile[] = [];
    const writer = await JournalWriter.open(dir, { openSegment: counting(files) });
    files[0]!.failSync = true;
    append(writer, record(1));
    writer.tick(0);
    await settle();
    assert.throws(() => append(writer, record(2)), JournalError);
    await assert.rejects(writer.close(), JournalError);
  }));

Deno.test("JournalWriter starts a new segment after existing ones and never appends to them", () =>
  withTempDir(async (dir) => {
    const first = await JournalWriter.open(dir);
    for (let i = 0; i < 20; i++) append(first, record(i));
    first.tick(0);
    // Crash: no close(); the last record is torn by a power cut.
    const size = (await Deno.stat(segmentPath(dir, 1))).size;
    await Deno.truncate(segmentPath(dir, 1), size - 3);
    const second = await JournalWriter.open(dir);
    assert.equal(second.segment, 2);
    for (let i = 20; i < 30; i++) append(second, record(i));
    await second.close();
    const { entries, tails } = await readAll(dir);
    assert.deepEqual(
      entries.map(strip),
      [...Array(19).keys(), ...Array.from({ length: 10 }, (_, i) => i + 20)].map(record),
    );
    assert.equal(tails.length, 1);
    assert.equal(tails[0]!.segment, 1);
    assert.equal(tails[0]!.reason, "torn");
    assert.equal(tails[0]!.offset + tails[0]!.ignoredBytes, size - 3);
    await first.close(); // only releases the handle: everything was written before the "crash"
  }));

Deno.test("readJournal() tolerates a torn tail cut at many offsets of the last record in a file", () =>
  withTempDir(async (dir) => {
    const writer = await JournalWriter.open(dir);
    for (let i = 1; i <= 5; i++) append(writer, record(i));
    const lastStart = writer.lastRecord!.offset;
    await writer.close();
    const path = segmentPath(dir, 1);
    const full = await Deno.readFile(path);
    for (let cut = lastStart; cut < full.length; cut += 7) {
      await Deno.writeFile(path, full.subarray(0, cut));
      const tails: JournalTail[] = [];
      const got: JournalEntry[] = [];
      for await (const e of readJournal(path, { onTail: (t) => tails.push(t) })) got.push(e);
      assert.deepEqual(got.map(strip), [1, 2, 3, 4].map(record), `cut at ${cut}`);
      assert.deepEqual(tails.map((t) => t.ignoredBytes), cut === lastStart ? [] : [cut - lastStart]);
    }
  }));

Deno.test("readSegments() resumes from a position", () =>
  withTempDir(async (dir) => {
    const writer = await JournalWriter.open(dir, { maxSegmentBytes: 2048 });
    const positions = Array.from({ length: 60 }, (_, i) => {
      const offset = append(writer, record(i));
      return { segment: writer.lastRecord!.segment, offset };
    });
    await writer.close();
    const from = positions[37]!;
    assert.ok(from.segment > 1);
    const { entries } = await readAll(dir, from);
    assert.deepEqual(entries.map(strip), Array.from({ length: 23 }, (_, i) => record(i + 37)));
    assert.deepEqual(await readAll(`${dir}/missing`), { entries: [], tails: [] });
  }));
