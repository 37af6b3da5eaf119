import assert from "node:assert/strict";
import {
  FleetFileError,
  fleetFileKind,
  heartbeatFile,
  manifestFile,
  parseHeartbeat,
  parseShardManifest,
} from "../../lib/fleet/files.ts";
import { entry, heartbeat, shardManifest } from "./_fixtures.ts";

Deno.test("fleet file names: _fleet/<shard>.json and _fleet/<shard>.manifest.json, recognised back", () => {
  assert.equal(heartbeatFile("s1"), "_fleet/s1.json");
  assert.equal(manifestFile("eu-2"), "_fleet/eu-2.manifest.json");
  assert.deepEqual(fleetFileKind("s1.json"), { shard: "s1", kind: "heartbeat" });
  assert.deepEqual(fleetFileKind("eu-2.manifest.json"), { shard: "eu-2", kind: "manifest" });
  for (const other of ["s1.json.tmp", "S1.json", "-x.json", "notes.txt", "s1.manifest.json.1"]) {
    assert.equal(fleetFileKind(other), null, other);
  }
});

Deno.test("parseHeartbeat() and parseShardManifest() read back what was written", () => {
  const hb = heartbeat(2, { symbols: { spot: ["BTCUSDT"], usdm: [] }, stoppedAtMs: 5, lastUploadMs: null });
  assert.deepEqual(parseHeartbeat(JSON.stringify(hb), "_fleet/s2.json"), hb);
  const m = shardManifest("s2", [entry("s2", "spot", "trades", 3, 10)]);
  assert.deepEqual(parseShardManifest(JSON.stringify(m), "_fleet/s2.manifest.json"), m);
});

Deno.test("parseHeartbeat(): a bad file fails naming the file and the field", () => {
  const bad = (over: Record<string, unknown>) => JSON.stringify({ ...heartbeat(0), ...over });
  const cases: [string, RegExp][] = [
    ["{", /^Cannot read _fleet\/s0\.json: invalid JSON$/],
    ["[]", /expected a JSON object/],
    [bad({ format: 2 }), /format 2, this build reads 1/],
    [bad({ atMs: "now" }), /'atMs' must be a number, got "now"/],
    [bad({ host: "" }), /'host' must be text/],
    [bad({ lastUploadMs: undefined }), /'lastUploadMs' must be a number, got nothing/],
    [bad({ symbols: { nyse: ["IBM"] } }), /'symbols' must be keyed by spot\/usdm\/coinm/],
    [bad({ symbols: { spot: [1] } }), /'symbols' must be lists of symbol names/],
    [bad({ books: { synced: 1 } }), /'books' must be \{synced, total\}/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseHeartbeat(text, "_fleet/s0.json"), (err) => {
      assert.ok(err instanceof FleetFileError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
});

Deno.test("parseShardManifest(): a malformed entry is named by its index", () => {
  const m = shardManifest("s0", [entry("s0", "spot", "trades", 3, 10), entry("s0", "spot", "trades", 4, 10)]);
  const broken = { ...m, files: [m.files[0], { ...m.files[1], table: "orders" }] };
  assert.throws(
    () => parseShardManifest(JSON.stringify(broken), "_fleet/s0.manifest.json"),
    /^FleetFileError: Cannot read _fleet\/s0\.manifest\.json: malformed entry at files\[1\]$/,
  );
  assert.throws(
    () => parseShardManifest(JSON.stringify({ ...m, days: "today" }), "m"),
    /'days' must be a list/,
  );
});
