/**
 * SNTP (RFC 4330 / RFC 5905) packets and the clock-offset math. Pure: bytes and numbers in, values out; the UDP
 * exchange lives in ntp.ts.
 *
 * Times are milliseconds since the Unix epoch as floats, so sub-millisecond parts survive.
 * @module
 */

/** Size of an SNTP packet without extensions. */
export const NTP_PACKET_BYTES = 48;

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_32 = 4_294_967_296;
const LEAP_UNSYNCHRONIZED = 3;
const MODE_CLIENT = 3;
const MODE_SERVER = 4;
const VERSION = 4;

/** A server reply that cannot be used for timing (kiss-o'-death, unsynchronized, not an answer to us). */
export class NtpResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NtpResponseError";
  }
}

/** The four timestamps of one exchange (RFC 5905 §8), ms since the Unix epoch. */
export interface NtpTimestamps {
  /** Client clock when the request left (T1, origin). */
  t1: number;
  /** Server clock when the request arrived (T2, receive). */
  t2: number;
  /** Server clock when the reply left (T3, transmit). */
  t3: number;
  /** Client clock when the reply arrived (T4, destination). */
  t4: number;
}

/** Result of the offset math. */
export interface NtpOffset {
  /** Server clock minus client clock, ms: add it to local time to get the server's time. */
  offsetMs: number;
  /** Round-trip network delay, ms, excluding the server's processing time. */
  delayMs: number;
}

/** What a server reply says, with its timestamps converted to ms since the Unix epoch. */
export interface NtpReply {
  stratum: number;
  /** Server receive time (T2). */
  receiveMs: number;
  /** Server transmit time (T3). */
  transmitMs: number;
}

/**
 * Clock offset and round-trip delay from the four timestamps (RFC 5905 §8):
 * offset = ((T2 − T1) + (T3 − T4)) / 2, delay = (T4 − T1) − (T3 − T2).
 *
 * @example
 * ```ts
 * ntpOffset({ t1: 1000, t2: 1260, t3: 1261, t4: 1021 }); // { offsetMs: 250, delayMs: 20 }
 * ```
 */
export function ntpOffset({ t1, t2, t3, t4 }: NtpTimestamps): NtpOffset {
  return { offsetMs: ((t2 - t1) + (t3 - t4)) / 2, delayMs: (t4 - t1) - (t3 - t2) };
}

/** Writes `ms` as a 64-bit NTP timestamp (32-bit seconds since 1900, 32-bit fraction) at `offset`. */
export function writeNtpTimestamp(view: DataView, offset: number, ms: number): void {
  const unixSeconds = Math.floor(ms / 1000);
  const fraction = Math.min(TWO_32 - 1, Math.floor(((ms - unixSeconds * 1000) / 1000) * TWO_32));
  // `>>> 0` wraps into the next era after 2036, which readNtpTimestamp undoes.
  view.setUint32(offset, (unixSeconds + NTP_UNIX_OFFSET_S) >>> 0);
  view.setUint32(offset + 4, fraction);
}

/**
 * Reads a 64-bit NTP timestamp at `offset` as ms since the Unix epoch. Seconds with the top bit clear are taken
 * as era 1 (after 2036-02-07), the RFC 4330 §3 convention, so times from 1968 to 2104 read correctly.
 */
export function readNtpTimestamp(view: DataView, offset: number): number {
  let seconds = view.getUint32(offset);
  if (seconds < 0x8000_0000) seconds += TWO_32;
  const fraction = view.getUint32(offset + 4);
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / TWO_32) * 1000;
}

/**
 * A client request (version 4, mode 3) carrying `transmitMs` as its transmit timestamp; the server echoes those
 * 8 bytes as the reply's origin timestamp, which ties the reply to this request.
 */
export function encodeNtpRequest(transmitMs: number): Uint8Array {
  const bytes = new Uint8Array(NTP_PACKET_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = (VERSION << 3) | MODE_CLIENT;
  writeNtpTimestamp(view, 40, transmitMs);
  return bytes;
}

/**
 * Checks and decodes a server reply to `request` (RFC 4330 §5): mode 4, not a kiss-o'-death (stratum 0), not
 * unsynchronized (leap indicator 3), origin timestamp equal to the request's transmit timestamp, non-zero
 * transmit timestamp. Throws {@linkcode NtpResponseError} otherwise.
 */
export function decodeNtpReply(reply: Uint8Array, request: Uint8Array): NtpReply {
  if (reply.length < NTP_PACKET_BYTES) {
    throw new NtpResponseError(`Cannot use NTP reply: ${reply.length} bytes, expected ${NTP_PACKET_BYTES}`);
  }
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const first = reply[0]!;
  const mode = first & 0b111;
  const leap = first >> 6;
  const stratum = reply[1]!;
  if (mode !== MODE_SERVER) throw new NtpResponseError(`Cannot use NTP reply: mode ${mode}, expected 4`);
  if (stratum === 0) {
    const code = String.fromCharCode(...reply.subarray(12, 16)).replace(/\0+$/, "");
    throw new NtpResponseError(`Cannot use NTP reply: kiss-o'-death "${code}"`);
  }
  if (leap === LEAP_UNSYNCHRONIZED) {
    throw new NtpResponseError("Cannot use NTP reply: server is unsynchronized");
  }
  for (let i = 0; i < 8; i++) {
    if (reply[24 + i] !== request[40 + i]) {
      throw new NtpResponseError("Cannot use NTP reply: origin timestamp does not match the request");
    }
  }
  if (view.getUint32(40) === 0 && view.getUint32(44) === 0) {
    throw new NtpResponseError("Cannot use NTP reply: transmit timestamp is zero");
  }
  return { stratum, receiveMs: readNtpTimestamp(view, 32), transmitMs: readNtpTimestamp(view, 40) };
}
