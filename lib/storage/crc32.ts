/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial), table-driven.
 *
 * Used by the journal to detect torn or corrupted records; it is not a cryptographic hash.
 * @module
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 of `bytes[start, end)` as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    // Both indexes are in range by construction; `!` avoids a per-byte undefined check.
    c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
