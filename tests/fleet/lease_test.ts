import assert from "node:assert/strict";
import {
  fleetReportKey,
  markReportDelivered,
  type ReportLease,
  takeReportLease,
} from "../../lib/fleet/lease.ts";
import { scopedKv, sharedKv } from "../../lib/ledger/scoped_kv.ts";

const DATE = "2026-03-01";
const T = Date.UTC(2026, 2, 2, 1, 5);

Deno.test("takeReportLease(): one holder at a time; its own retry takes it again; an expired lease passes on", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    assert.deepEqual(await takeReportLease(kv, DATE, "s0", T, { ttlMs: 60_000 }), { taken: true });
    const held = await takeReportLease(kv, DATE, "s1", T + 59_999);
    assert.equal(held.taken, false);
    assert.ok(!held.taken && held.why === "held" && held.lease.holder === "s0");
    assert.deepEqual(
      await takeReportLease(kv, DATE, "s0", T + 30_000),
      { taken: true },
      "a retry by the holder",
    );
    // s0's lease (renewed at T + 30 s for 30 min) runs out; s1 takes over.
    assert.equal((await takeReportLease(kv, DATE, "s1", T + 30_000 + 1_800_000 - 1)).taken, false);
    assert.deepEqual(await takeReportLease(kv, DATE, "s1", T + 30_000 + 1_800_000), { taken: true });
    assert.equal((await kv.get<ReportLease>(fleetReportKey(DATE))).value?.holder, "s1");
    // Another day has its own lease.
    assert.deepEqual(await takeReportLease(kv, "2026-03-02", "s0", T), { taken: true });
  } finally {
    kv.close();
  }
});

Deno.test("takeReportLease(): a delivered day is never taken again, by anyone", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await takeReportLease(kv, DATE, "s2", T);
    await markReportDelivered(kv, DATE, "s2", T + 1000);
    for (const [shard, at] of [["s2", T + 2000], ["s0", T + 86_400_000]] as const) {
      const outcome = await takeReportLease(kv, DATE, shard, at);
      assert.ok(!outcome.taken && outcome.why === "delivered" && outcome.lease.deliveredAtMs === T + 1000);
    }
  } finally {
    kv.close();
  }
});

Deno.test("takeReportLease(): of many shards racing on one store, exactly one wins", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // As the collector does: each shard's ledger view is scoped; the lease goes to the whole store. The calls
    // interleave: all read "no lease", then all commit, and the versionstamp check lets one through.
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => takeReportLease(sharedKv(scopedKv(kv, `s${i}`)), DATE, `s${i}`, T)),
    );
    assert.equal(outcomes.filter((o) => o.taken).length, 1, JSON.stringify(outcomes));
    const holder = (await kv.get<ReportLease>(fleetReportKey(DATE))).value!.holder;
    assert.equal(`s${outcomes.findIndex((o) => o.taken)}`, holder);
    assert.ok(outcomes.every((o) => o.taken || (o.why === "held" && o.lease.holder === holder)));
  } finally {
    kv.close();
  }
});
