/**
 * Shards sharing one Deno KV store: each ledger sees only its own checkpoint, gaps, coverage and files; cloud
 * sync jobs reach the listener of the shard that queued them; tools opening the store find its only shard.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CHECKPOINT_KEY } from "../../lib/ledger/keys.ts";
import { Ledger } from "../../lib/ledger/ledger.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { scopedKv, sharedKv } from "../../lib/ledger/scoped_kv.ts";
import { D, DATE, fileEntry, gapRow, S } from "./_sample_ledger.ts";

const noEnv = { get: () => undefined };

Deno.test("two shards on one store: checkpoints, gaps, coverage and files stay apart", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const a = new Ledger(scopedKv(kv, "s0"));
    const b = new Ledger(scopedKv(kv, "s1"));
    const fileA = fileEntry("spot", "trades", "BTCUSDT", D, 0, 10, 100);
    const fileB = fileEntry("spot", "trades", "ETHUSDT", D, 0, 20, 200);
    assert.ok(await a.commitCheckpoint(null, { segment: 1, offset: 10 }, [fileA]));
    // Both start from "no checkpoint": with one unscoped key the second commit would lose the race.
    assert.ok(await b.commitCheckpoint(null, { segment: 7, offset: 70 }, [fileB]));
    assert.deepEqual([(await a.getCheckpoint())?.segment, (await b.getCheckpoint())?.segment], [1, 7]);
    assert.equal((await kv.get(CHECKPOINT_KEY)).value, null, "nothing written outside the shards' keys");
    assert.deepEqual((await a.listFiles()).map((f) => f.path), [fileA.path]);
    assert.deepEqual((await b.listFiles()).map((f) => f.path), [fileB.path]);

    await a.addGap("spot", gapRow("BTCUSDT", "aggTrade", "stale", D, D + S));
    assert.equal((await a.listGaps({ fromUs: D, toUs: D + 2 * S })).length, 1);
    assert.equal((await b.listGaps({ fromUs: D, toUs: D + 2 * S })).length, 0);

    const sample = { messages: 5, spanStartUs: D, spanEndUs: D + 10 * S };
    await a.addCoverage("spot", "BTCUSDT", "aggTrade", D, sample);
    await b.addCoverage("spot", "ETHUSDT", "aggTrade", D, { ...sample, messages: 9 });
    assert.deepEqual((await a.coverage(DATE)).map((c) => [c.symbol, c.messages]), [["BTCUSDT", 5]]);
    assert.deepEqual((await b.coverage(DATE)).map((c) => [c.symbol, c.messages]), [["ETHUSDT", 9]]);
    assert.equal(sharedKv(a.kv), kv);
  } finally {
    kv.close();
  }
});

Deno.test("a queued job reaches the listener of the shard that queued it, whoever the store hands it to", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "shared.sqlite");
  // Two handles on one store, as two processes on one KV Connect database.
  const kv0 = await Deno.openKv(path);
  const kv1 = await Deno.openKv(path);
  const got: string[] = [];
  const done = Promise.withResolvers<void>();
  const listen = (kv: Deno.Kv, name: string) =>
    scopedKv(kv, name).listenQueue((v) => {
      got.push(`${name}:${(v as { job: string }).job}`);
      if (got.length === 6) done.resolve();
    });
  try {
    const listening = [listen(kv0, "s0"), listen(kv1, "s1")];
    for (let i = 0; i < 3; i++) {
      await scopedKv(kv0, "s0").enqueue({ job: `a${i}` });
      await scopedKv(kv1, "s1").atomic().enqueue({ job: `b${i}` }).commit();
    }
    const timeout = setTimeout(() => done.reject(new Error(`only ${got}`)), 30_000);
    await done.promise;
    clearTimeout(timeout);
    assert.deepEqual(got.sort(), ["s0:a0", "s0:a1", "s0:a2", "s1:b0", "s1:b1", "s1:b2"]);
    kv0.close();
    kv1.close();
    await Promise.allSettled(listening);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openLedger(): the shard's keys with `shard`; a tool without one finds the store's only shard", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "ledger.sqlite");
  try {
    const shard = await openLedger(path, noEnv, { shard: "s2" });
    await shard.commitCheckpoint(null, { segment: 3, offset: 30 }, []);
    shard.close();
    const tool = await openLedger(path, noEnv);
    assert.equal((await tool.getCheckpoint())?.segment, 3, "the only shard is found");
    tool.close();
    const unsharded = await openLedger(path, noEnv, { shard: null });
    assert.equal(await unsharded.getCheckpoint(), null);
    unsharded.close();
    const other = await openLedger(path, noEnv, { shard: "s3" });
    await other.commitCheckpoint(null, { segment: 4, offset: 40 }, []);
    other.close();
    const ambiguous = await openLedger(path, noEnv);
    assert.equal(await ambiguous.getCheckpoint(), null, "two shards: no guess");
    ambiguous.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
