import assert from "node:assert/strict";
import { crc32 } from "../../lib/storage/crc32.ts";

Deno.test("crc32() matches the IEEE check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("crc32() of a sub-range equals a bitwise reference on random data", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(4096));
  assert.equal(crc32(bytes), reference(bytes));
  assert.equal(crc32(bytes, 100, 1000), reference(bytes.subarray(100, 1000)));
  assert.equal(crc32(bytes, 7, 7), 0);
});

/** CRC-32 bit by bit, straight from the definition (reflected polynomial 0xEDB88320). */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
