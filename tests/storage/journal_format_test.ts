import assert from "node:assert/strict";
import {
  checkSegmentHeader,
  decodeSegment,
  encodeRecord,
  type JournalEntry,
  type JournalRecord,
  type JournalTail,
  maxRecordBytes,
  SEGMENT_MAGIC,
} from "../../lib/storage/journal_format.ts";
import { record } from "./_journal_records.ts";

/** A segment's bytes holding `records`, and where each record starts. */
function segment(records: JournalRecord[]): { bytes: Uint8Array; offsets: number[] } {
  const bytes = new Uint8Array(
    SEGMENT_MAGIC.length + records.reduce((n, r) => n + maxRecordBytes(r.symbol, r.text), 0),
  );
  const view = new DataView(bytes.buffer);
  bytes.set(SEGMENT_MAGIC);
  let pos = SEGMENT_MAGIC.length;
  const offsets: number[] = [];
  for (const r of records) {
    offsets.push(pos);
    pos = encodeRecord(bytes, view, pos, r.localUs, r.market, r.conn, r.kind, r.symbol, r.text);
  }
  return { bytes: bytes.slice(0, pos), offsets };
}

function decodeAll(bytes: Uint8Array, start = 0): { entries: JournalEntry[]; tails: JournalTail[] } {
  const tails: JournalTail[] = [];
  const entries = [...decodeSegment(bytes, 9, start, (t) => tails.push(t))];
  return { entries, tails };
}

const strip = ({ segment: _s, offset: _o, ...rec }: JournalEntry): JournalRecord => rec;

Deno.test("decodeSegment() returns every encoded record with its offset", () => {
  const records = Array.from({ length: 500 }, (_, i) => record(i));
  const { bytes, offsets } = segment(records);
  const { entries, tails } = decodeAll(bytes);
  assert.deepEqual(tails, []);
  assert.deepEqual(entries.map(strip), records);
  assert.deepEqual(entries.map((e) => e.offset), offsets);
  assert.ok(entries.every((e) => e.segment === 9));
  assert.deepEqual(decodeAll(bytes, offsets[321]).entries.map(strip), records.slice(321));
});

Deno.test("decodeSegment() tolerates a torn last record at every byte offset", () => {
  const records = Array.from({ length: 6 }, (_, i) => record(i + 1));
  const { bytes, offsets } = segment(records);
  const lastStart = offsets.at(-1)!;
  assert.ok(bytes.length - lastStart > 100, "the last record is long enough to be cut in many places");
  for (let cut = lastStart; cut < bytes.length; cut++) {
    const { entries, tails } = decodeAll(bytes.subarray(0, cut));
    assert.deepEqual(entries.map(strip), records.slice(0, -1), `cut at ${cut}`);
    if (cut === lastStart) {
      assert.deepEqual(tails, [], "a cut between records is a clean end");
    } else {
      assert.equal(tails.length, 1);
      assert.deepEqual(
        { offset: tails[0]!.offset, ignored: tails[0]!.ignoredBytes, reason: tails[0]!.reason },
        { offset: lastStart, ignored: cut - lastStart, reason: "torn" },
        `cut at ${cut}`,
      );
    }
  }
});

Deno.test("decodeSegment() stops at a record with any corrupted byte and keeps the ones before", () => {
  const records = Array.from({ length: 9 }, (_, i) => record(i + 10));
  const { bytes, offsets } = segment(records);
  const k = 4;
  for (let at = offsets[k]!; at < offsets[k + 1]!; at++) {
    const damaged = bytes.slice();
    damaged[at]! ^= 0x5a;
    const { entries, tails } = decodeAll(damaged);
    assert.deepEqual(entries.map(strip), records.slice(0, k), `byte ${at}`);
    assert.equal(tails.length, 1);
    assert.equal(tails[0]!.offset, offsets[k]);
    assert.equal(tails[0]!.ignoredBytes, bytes.length - offsets[k]!);
    // Damage in the length field can look like a cut; damage elsewhere fails the checksum.
    if (at >= offsets[k]! + 4) assert.equal(tails[0]!.reason, "corrupt", `byte ${at}`);
  }
});

Deno.test("decodeSegment() reports a zero-filled tail (power loss) as ignored", () => {
  const records = [record(1), record(2)];
  const { bytes } = segment(records);
  const padded = new Uint8Array(bytes.length + 4096);
  padded.set(bytes);
  const { entries, tails } = decodeAll(padded);
  assert.deepEqual(entries.map(strip), records);
  assert.deepEqual(tails.map((t) => [t.offset, t.ignoredBytes, t.reason]), [[bytes.length, 4096, "corrupt"]]);
});

Deno.test("decodeSegment() checks the segment header", () => {
  assert.deepEqual(decodeAll(new Uint8Array(0)), { entries: [], tails: [] });
  assert.deepEqual(decodeAll(SEGMENT_MAGIC.slice(0, 5)).tails.map((t) => [t.reason, t.ignoredBytes]), [[
    "torn",
    5,
  ]]);
  const foreign = new TextEncoder().encode("PAR1 this is not a journal");
  assert.deepEqual(decodeAll(foreign).tails.map((t) => [t.reason, t.ignoredBytes]), [[
    "corrupt",
    foreign.length,
  ]]);
  assert.equal(checkSegmentHeader(SEGMENT_MAGIC), "ok");
});

Deno.test("encodeRecord() rejects fields that do not fit the format", () => {
  const bytes = new Uint8Array(300_000);
  const view = new DataView(bytes.buffer);
  assert.throws(() => encodeRecord(bytes, view, 0, 1, "spot", -1, 1, "", ""), RangeError);
  assert.throws(() => encodeRecord(bytes, view, 0, 1, "spot", 2 ** 32, 1, "", ""), RangeError);
  assert.throws(() => encodeRecord(bytes, view, 0, 1, "spot", 1, 256, "", ""), RangeError);
  assert.throws(() => encodeRecord(bytes, view, 0, 1, "optionsx" as "spot", 1, 1, "", ""), RangeError);
  assert.throws(() => encodeRecord(bytes, view, 0, 1, "spot", 1, 1, "€".repeat(30_000), ""), RangeError);
});
