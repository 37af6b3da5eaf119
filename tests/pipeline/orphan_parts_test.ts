/**
 * Recovery's orphan sweep: a part file that no committed flush lists (its flush crashed before the commit) is
 * removed; committed part files, compacted `hour-` files, temp files and names outside the layout stay. Each
 * part file is looked up in the ledger (`Ledger.hasFile`), not the ledger's whole list of files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Ledger } from "../../lib/ledger/ledger.ts";
import { removeOrphanParts } from "../../lib/pipeline/recovery.ts";
import { compactedFileName, parquetFileName } from "../../lib/storage/layout.ts";
import { isoMicros, type ManifestEntry } from "../../lib/storage/manifest.ts";
import { withTempDir } from "../temp_dir.ts";

const H7 = Date.UTC(2026, 11, 1, 7) * 1000;
const DIR = "spot/trades/date=2026-12-01";

function entry(name: string): ManifestEntry {
  return {
    path: `${DIR}/${name}`,
    sha256: "0".repeat(64),
    rows: 1,
    bytes: 4,
    first_local_time: isoMicros(H7),
    last_local_time: isoMicros(H7 + 1),
    market: "spot",
    table: "trades",
  };
}

Deno.test("removeOrphanParts() removes only part files the ledger does not list", async () => {
  await withTempDir(async (dataDir) => {
    const ledger = new Ledger(await Deno.openKv(":memory:"));
    try {
      const committed = parquetFileName(H7, 1);
      const orphan = parquetFileName(H7 + 60_000_000, 2);
      const orphanElsewhere = `usdm/trades/date=2026-12-01/${parquetFileName(H7, 7)}`;
      const names = [
        committed,
        orphan,
        compactedFileName(H7, "0a1b2c3d"), // not in the ledger either, but only part files are swept
        `${parquetFileName(H7, 3)}.tmp-0123456789abcdef`,
        "notes.parquet",
      ];
      await Deno.mkdir(join(dataDir, DIR), { recursive: true });
      await Deno.mkdir(join(dataDir, "usdm/trades/date=2026-12-01"), { recursive: true });
      await Deno.mkdir(join(dataDir, "_journal"), { recursive: true });
      for (const n of names) await Deno.writeTextFile(join(dataDir, DIR, n), "PAR1");
      await Deno.writeTextFile(join(dataDir, orphanElsewhere), "PAR1");
      await Deno.writeTextFile(join(dataDir, "_journal", parquetFileName(H7, 4)), "not data");
      assert.equal(await ledger.hasFiles(), false);
      await ledger.addFiles([entry(committed)]);
      assert.equal(await ledger.hasFiles(), true);
      assert.equal(await ledger.hasFile(`${DIR}/${committed}`), true);
      assert.equal(await ledger.hasFile(`${DIR}/${orphan}`), false);

      const removed = await removeOrphanParts(dataDir, ledger);
      assert.deepEqual(removed.sort(), [`${DIR}/${orphan}`, orphanElsewhere].sort());
      const left = [...Deno.readDirSync(join(dataDir, DIR))].map((e) => e.name).sort();
      assert.deepEqual(left, names.filter((n) => n !== orphan).sort());
      assert.ok(
        Deno.statSync(join(dataDir, "_journal", parquetFileName(H7, 4))).isFile,
        "_ directories are not swept",
      );
    } finally {
      ledger.close();
    }
  });
});
