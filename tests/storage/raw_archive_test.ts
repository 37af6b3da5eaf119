import assert from "node:assert/strict";
import { JournalWriter, segmentPath } from "../../lib/storage/journal.ts";
import { readJournal } from "../../lib/storage/journal_reader.ts";
import { archiveSegment } from "../../lib/storage/raw_archive.ts";

Deno.test("archiveSegment() keeps a journal segment gzip-compressed, byte for byte, readable as a journal", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const journal = await JournalWriter.open(`${dir}/_journal`);
    const frames = Array.from({ length: 500 }, (_, i) => `{"stream":"btcusdt@aggTrade","data":{"a":${i}}}`);
    frames.forEach((f, i) => journal.append(1_700_000_000_000_000 + i, "spot", 7, 1, "", f));
    const segment = journal.segment;
    await journal.close();
    const original = await Deno.readFile(segmentPath(`${dir}/_journal`, segment));

    const archived = await archiveSegment(segmentPath(`${dir}/_journal`, segment), `${dir}/_raw`);
    assert.match(archived, /_raw\/.*\.wal\.gz$/);
    const gz = await Deno.readFile(archived);
    assert.ok(gz.length < original.length / 3, `compressed: ${gz.length} of ${original.length} bytes`);
    const unzipped = new Uint8Array(
      await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
    );
    assert.deepEqual(unzipped, original);

    await Deno.writeFile(`${dir}/${"1".padStart(10, "0")}.wal`, unzipped);
    const texts: string[] = [];
    for await (const r of readJournal(`${dir}/${"1".padStart(10, "0")}.wal`)) texts.push(r.text);
    assert.deepEqual(texts, frames);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
