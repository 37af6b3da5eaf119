import assert from "node:assert/strict";
import { assetAt, ASSETS } from "../../lib/status/assets.ts";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("the vendored chart libraries are the npm files, unchanged (SHA-256 pins)", async () => {
  for (const a of ASSETS) assert.equal(await sha256(a.body), a.sha256, a.from);
});

Deno.test("each asset's URL carries its package version and MIT banner, and assetAt() finds only them", () => {
  for (const a of ASSETS) {
    const version = /@(\d+\.\d+\.\d+)\//.exec(a.from)![1]!;
    assert.ok(a.path.includes(version), `${a.path} names ${version}`);
    assert.match(a.body.slice(0, 300), new RegExp(`v${version.replaceAll(".", "\\.")}[^]*MIT`, "i"));
    assert.equal(assetAt(a.path), a);
  }
  assert.equal(assetAt("/assets/other.js"), undefined);
});
