import assert from "node:assert/strict";
import { RcloneFetchError, RcloneRemote } from "../../lib/merge/rclone_remote.ts";
import { MergeInputError, openRecordings } from "../../lib/merge/recordings.ts";
import { withTempDir } from "../temp_dir.ts";

const DAY = "spot/trades/date=2024-01-02";
const PART = "part-07-1704178800000000-000001";

async function touch(root: string, rel: string, text = "PAR1"): Promise<void> {
  await Deno.mkdir(`${root}/${rel.slice(0, rel.lastIndexOf("/"))}`, { recursive: true });
  await Deno.writeTextFile(`${root}/${rel}`, text);
}

Deno.test("recordings: each shard of an input is a recording; files without a shard are one more; _ folders skipped", async () => {
  await withTempDir(async (dir) => {
    await touch(dir, `${DAY}/${PART}.s1.parquet`);
    await touch(dir, `${DAY}/${PART}.s0.parquet`);
    await touch(dir, `${DAY}/hour-08-1704182400000000-0a1b2c3d.s0.parquet`);
    await touch(dir, `${DAY}/${PART}.parquet`);
    await touch(dir, `_journal/x.parquet`);
    await touch(dir, `spot/trades/notes.txt`);
    const { inputs, recordings } = await openRecordings([dir]);
    assert.equal(inputs[0]!.kind, "local");
    assert.deepEqual(
      recordings.map((r) => [r.label, r.files.map((f) => [f.rel.slice(DAY.length + 1), f.hourUs])]),
      [
        [`-@${dir}`, [[`${PART}.parquet`, 1704178800000000]]],
        [`s0@${dir}`, [[`${PART}.s0.parquet`, 1704178800000000], [
          "hour-08-1704182400000000-0a1b2c3d.s0.parquet",
          1704182400000000,
        ]]],
        [`s1@${dir}`, [[`${PART}.s1.parquet`, 1704178800000000]]],
      ],
    );
  });
});

Deno.test("recordings: an rclone remote is listed like a directory", async () => {
  await withTempDir(async (dir) => {
    await touch(`${dir}/remote`, `${DAY}/${PART}.s0.parquet`, "PAR1PAR1");
    const { inputs, recordings } = await openRecordings([`:local:${dir}/remote`]);
    assert.equal(inputs[0]!.kind, "remote");
    assert.deepEqual(recordings.map((r) => [r.shard, r.files.map((f) => f.size)]), [["s0", [8]]]);
    const remote = (inputs[0] as { remote: RcloneRemote }).remote;
    await remote.fetch(recordings[0]!.files, `${dir}/copy`);
    assert.equal(await Deno.readTextFile(`${dir}/copy/${DAY}/${PART}.s0.parquet`), "PAR1PAR1");
  });
});

Deno.test("recordings: bad inputs are named clearly", async () => {
  await withTempDir(async (dir) => {
    const fails = async (specs: string[], pattern: RegExp) => {
      await assert.rejects(openRecordings(specs), (err: Error) => {
        assert.ok(err instanceof MergeInputError, `${err}`);
        assert.match(err.message, pattern);
        return true;
      });
    };
    await fails([`${dir}/nope`], /no such directory .*\/nope \(an rclone remote is written remote:path\)/);
    await Deno.writeTextFile(`${dir}/file`, "x");
    await fails([`${dir}/file`], /is a file, not a data directory/);
    await Deno.mkdir(`${dir}/empty`);
    await fails([`${dir}/empty`], /empty is not a data directory: no Parquet files under/);
    await fails([`:local:${dir}/nope`], /Cannot read :local:.*nope: directory not found/);
    await fails(["no-such-remote:data"], /no such remote in the rclone config/);
    await touch(`${dir}/old`, `${DAY}/symbol=BTCUSDT/${PART}.parquet`);
    await fails([`${dir}/old`], /0\.3 layout .* run deno task migrate/);
    await touch(`${dir}/odd`, `${DAY}/mine.parquet`);
    await fails([`${dir}/odd`], /mine\.parquet is not named part-HH-… or hour-HH-…/);
    await touch(`${dir}/ok`, `${DAY}/${PART}.parquet`);
    await fails([`${dir}/ok`, `${dir}/ok`], /an input is given twice/);
  });
});

Deno.test("rclone remote: a failing rclone and a file that does not arrive are errors", async () => {
  await withTempDir(async (dir) => {
    const fake = `${dir}/rclone`;
    // lists one file of 4 bytes; "copy" succeeds without copying anything; anything else fails.
    await Deno.writeTextFile(
      fake,
      `#!/bin/sh
case "$1" in
  lsjson) echo '[{"Path":"a/b.parquet","Size":4}]' ;;
  copy) exit 0 ;;
  *) echo "boom" >&2; exit 5 ;;
esac
`,
    );
    await Deno.chmod(fake, 0o755);
    const remote = new RcloneRemote("r:data", { binary: fake });
    const files = await remote.list();
    assert.deepEqual(files, [{ rel: "a/b.parquet", size: 4 }]);
    await assert.rejects(
      remote.fetch(files, `${dir}/copy`),
      RcloneFetchError,
      "a/b.parquet is listed with 4 bytes, it did not arrive",
    );
    await assert.rejects(
      new RcloneRemote("r:data", { binary: `${dir}/missing` }).list(),
      RcloneFetchError,
      "is not installed",
    );
    await Deno.writeTextFile(fake, `#!/bin/sh\necho "network down" >&2\nexit 1\n`);
    await assert.rejects(remote.list(), RcloneFetchError, "rclone lsjson exited with code 1: network down");
  });
});
