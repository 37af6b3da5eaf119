/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of a byte range.
 *
 * Used by the journal to detect torn or corrupted records; it is not a cryptographic hash. The runtime's zlib
 * computes it natively, an order of magnitude faster than a table-driven loop in JavaScript (it runs once per
 * journaled frame).
 * @module
 */
import { crc32 as zlibCrc32 } from "node:zlib";

/**
 * CRC-32 of `bytes[start, end)` as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  return zlibCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) >>> 0;
}
