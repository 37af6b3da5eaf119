import assert from "node:assert/strict";
import { join } from "node:path";
import { metaKey } from "../../lib/ledger/keys.ts";
import { isRemoteKv, LAYOUT_VERSION, LedgerOpenError, openLedger } from "../../lib/ledger/open.ts";
import { D, gapRow } from "./_sample_ledger.ts";

const noEnv = { get: () => undefined };

Deno.test("openLedger() creates the file's directory, stamps the layout and reopens the same data", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "data", "_state", "ledger.sqlite");
    const ledger = await openLedger(path, noEnv);
    await ledger.addGap("spot", gapRow("BTCUSDT", "aggTrade", "stale", D, D + 1));
    assert.equal((await ledger.kv.get(metaKey("layout"))).value, LAYOUT_VERSION);
    ledger.close();
    assert.ok((await Deno.stat(path)).isFile);
    const again = await openLedger(path, noEnv);
    assert.equal((await again.listGaps({ fromUs: D, toUs: D + 1 })).length, 1);
    await again.kv.set(metaKey("layout"), LAYOUT_VERSION + 1);
    again.close();
    await assert.rejects(openLedger(path, noEnv), LedgerOpenError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openLedger() needs DENO_KV_ACCESS_TOKEN for a remote URL", async () => {
  const err = await openLedger("https://api.deno.com/databases/x/connect", noEnv).then(() => null, (e) => e);
  assert.ok(err instanceof LedgerOpenError);
  assert.match(err.message, /DENO_KV_ACCESS_TOKEN/);
  await assert.rejects(openLedger("", noEnv), LedgerOpenError);
  assert.equal(isRemoteKv("HTTP://localhost:4512"), true);
  assert.equal(isRemoteKv("data/_state/ledger.sqlite"), false);
});

Deno.test("openLedger() opens :memory: without touching the file system", async () => {
  const ledger = await openLedger(":memory:", noEnv);
  assert.equal(await ledger.getCheckpoint(), null);
  ledger.close();
});
