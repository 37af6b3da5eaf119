import assert from "node:assert/strict";
import { crc32 as zlibCrc32 } from "node:zlib";
import { crc32 } from "../../lib/storage/crc32.ts";

Deno.test("crc32() matches the IEEE check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("crc32() agrees with node:zlib on random data and on sub-ranges", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(4096));
  assert.equal(crc32(bytes), zlibCrc32(bytes));
  assert.equal(crc32(bytes, 100, 1000), zlibCrc32(bytes.subarray(100, 1000)));
});
