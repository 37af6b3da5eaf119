import assert from "node:assert/strict";
import { manifestPath } from "../../lib/storage/layout.ts";
import { isoMicros, Manifest, type ManifestEntry } from "../../lib/storage/manifest.ts";
import { SealedEntriesLost, type SealPolicy, sealSettledDays } from "../../lib/storage/sealed_dirs.ts";
import { Prng } from "../../lib/sim/prng.ts";
import { withTempDir } from "../temp_dir.ts";

const entry = (path: string, n = 0): ManifestEntry => ({
  path,
  sha256: String(n).padStart(64, "0"),
  rows: n,
  bytes: 10 + n,
  first_local_time: isoMicros(1_704_153_600_000_000 + n),
  last_local_time: isoMicros(1_704_153_600_000_000 + n),
  market: "spot",
  table: "trades",
});

/** What `checksums.json` must hold: one `JSON.stringify` of every entry, sorted by path. */
const wholeText = (model: Map<string, ManifestEntry>) =>
  JSON.stringify(
    { version: 1, files: [...model.values()].sort((a, b) => (a.path < b.path ? -1 : 1)) },
    null,
    1,
  ) + "\n";

const day = (d: number) => `2024-01-${String(d).padStart(2, "0")}`;
const dirOf = (path: string) => path.slice(0, path.lastIndexOf("/"));

Deno.test("a sealing Manifest saves every entry through adds, removes and resealing, in sealed and held directories, holding only the unsealed ones", () =>
  withTempDir(async (dir) => {
    // Directories are sealed while their day is in `settled`; the test moves days in and out of it.
    const settled = new Set<string>();
    const policy: SealPolicy = (d) => settled.has(d.split("=")[1]!);
    const manifest = Manifest.of(dir, [], { seal: policy });
    const model = new Map<string, ManifestEntry>();
    const rng = new Prng(11);
    let sealedSaves = 0;
    /** Directories sealed by the last save: listed, none of their entries held. */
    let sealedDirs = new Set<string>();
    for (let round = 0; round < 40; round++) {
      // Some rounds change a few directories only, so that sealed ones are copied as they are, in runs.
      const changes = rng.int(3) === 0 ? 3 : 300;
      for (let i = 0; i < changes; i++) {
        const path = `${["spot", "usdm"][rng.int(2)]}/${["trades", "gaps"][rng.int(2)]}/date=${
          day(rng.int(12) + 1)
        }/hour-${String(rng.int(40)).padStart(2, "0")}.parquet`;
        if (rng.int(6) === 0) {
          const had = model.delete(path);
          const said = manifest.remove(path);
          // In a sealed directory a removal is applied by the next save: true may only mean "may be listed".
          if (!sealedDirs.has(dirOf(path))) assert.equal(said, had);
          else if (had) assert.ok(said);
        } else {
          const e = entry(path, round * 1000 + i);
          manifest.add(e);
          model.set(path, e);
        }
      }
      // Days settle, and now and then one comes back (a late file for an old day, say).
      settled.add(day(rng.int(12) + 1));
      if (rng.int(4) === 0) settled.delete(day(rng.int(12) + 1));
      await manifest.save();
      assert.equal(await Deno.readTextFile(manifestPath(dir)), wholeText(model), `round ${round}`);
      const held = manifest.entries();
      assert.ok(
        held.every((e) => !settled.has(e.path.split("=")[1]!.slice(0, 10))),
        "a sealed day is not held",
      );
      assert.equal(manifest.size + manifest.sealed, model.size);
      if (manifest.sealed > 0) sealedSaves++;
      const heldPaths = new Set(held.map((e) => e.path));
      sealedDirs = new Set([...model.keys()].filter((p) => !heldPaths.has(p)).map(dirOf));
    }
    assert.ok(sealedSaves > 30);
    assert.deepEqual(
      (await Manifest.load(dir)).entries(),
      [...model.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
  }));

Deno.test("a sealing Manifest: changes made while a save writes reach the next save, none lost or brought back", () =>
  withTempDir(async (dir) => {
    const settled = new Set([day(1), day(2)]);
    const manifest = Manifest.of(dir, [], { seal: (d) => settled.has(d.split("=")[1]!) });
    const model = new Map<string, ManifestEntry>();
    const put = (e: ManifestEntry) => (manifest.add(e), model.set(e.path, e));
    const drop = (path: string) => (manifest.remove(path), model.delete(path));
    for (let d = 1; d <= 4; d++) {
      for (let h = 0; h < 4_000; h++) {
        put(entry(`spot/trades/date=${day(d)}/hour-${String(h).padStart(5, "0")}.parquet`, h));
      }
    }
    await manifest.save();
    assert.equal(manifest.size, 8_000);
    // While a save runs (its file is several pieces), entries of sealed and held directories come and go,
    // including entries of a directory this very save seals (day 3).
    settled.add(day(3));
    put(entry(`spot/trades/date=${day(2)}/late.parquet`, 1));
    let done = false;
    const saving = manifest.save().then(() => done = true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.ok(!done, "the save is still writing");
    drop(`spot/trades/date=${day(1)}/hour-00007.parquet`);
    drop(`spot/trades/date=${day(2)}/late.parquet`);
    drop(`spot/trades/date=${day(3)}/hour-00009.parquet`);
    drop(`spot/trades/date=${day(4)}/hour-00009.parquet`);
    put(entry(`spot/trades/date=${day(1)}/hour-00008.parquet`, 99));
    put(entry(`spot/trades/date=${day(3)}/hour-00010.parquet`, 99));
    await saving;
    await manifest.save();
    assert.equal(await Deno.readTextFile(manifestPath(dir)), wholeText(model));
    assert.equal(manifest.size, 3_999);
    await manifest.save();
    assert.equal(await Deno.readTextFile(manifestPath(dir)), wholeText(model));
  }));

Deno.test("a sealing Manifest rereads sealed directories from its authority when the file changed behind it, and refuses without one", () =>
  withTempDir(async (dir) => {
    const seal: SealPolicy = (d) => d.endsWith(day(1));
    const all = [1, 2].flatMap((d) =>
      [0, 1, 2].map((h) => entry(`spot/trades/date=${day(d)}/hour-0${h}.parquet`, h))
    );
    const model = new Map(all.map((e) => [e.path, e]));
    const asked: string[] = [];
    const manifest = Manifest.of(dir, all, {
      seal,
      reread: (d) => {
        asked.push(d);
        return Promise.resolve(all.filter((e) => dirOf(e.path) === d));
      },
    });
    await manifest.save();
    assert.equal(manifest.size, 3);
    await Deno.writeTextFile(manifestPath(dir), '{"version":1,"files":[]}\n');
    manifest.remove(`spot/trades/date=${day(1)}/hour-01.parquet`);
    model.delete(`spot/trades/date=${day(1)}/hour-01.parquet`);
    await manifest.save();
    assert.deepEqual(asked, [`spot/trades/date=${day(1)}`]);
    assert.equal(await Deno.readTextFile(manifestPath(dir)), wholeText(model));

    const alone = Manifest.of(dir, all, { seal });
    await alone.save();
    await Deno.remove(manifestPath(dir));
    await assert.rejects(alone.save(), SealedEntriesLost);
  }));

Deno.test("sealSettledDays() seals a layout day once it is older than the days kept and holds only compacted files", () => {
  const now = Date.UTC(2024, 0, 20, 12);
  const seal = sealSettledDays(10, () => now);
  const dir = (date: string) => `spot/trades/date=${date}`;
  const files = (date: string, ...names: string[]) => names.map((n) => entry(`${dir(date)}/${n}`));
  assert.ok(seal(dir("2024-01-09"), files("2024-01-09", "hour-00-a.parquet", "hour-01-b.parquet")));
  assert.ok(
    !seal(dir("2024-01-10"), files("2024-01-10", "hour-00-a.parquet")),
    "10 days before the clock's day",
  );
  assert.ok(
    !seal(dir("2024-01-09"), files("2024-01-09", "hour-00-a.parquet", "part-01-b.parquet")),
    "a part file is still to compact",
  );
  const legacy = "spot/trades/date=2024-01-09/symbol=BTCUSDT";
  assert.ok(!seal(legacy, [entry(`${legacy}/hour-00-a.parquet`)]), "0.3 layout");
  assert.ok(
    !seal("spot/nonsense/date=2024-01-09", [entry("spot/nonsense/date=2024-01-09/hour-00-a.parquet")]),
  );
  assert.ok(!seal(dir("2024-01-09"), []));
});
