/**
 * Binary framing of journal segments. Pure: encodes into and decodes from byte arrays, no I/O.
 *
 * A segment is an 8-byte header (`MDJRNL01`) followed by records, all little-endian:
 * ```
 * [u32 payload length][u32 crc32(payload)][payload]
 * payload = [f64 localUs][u8 market][u32 conn][u8 kind][u16 symbol bytes][symbol utf8][text utf8]
 * ```
 * A crash can leave the last record torn (cut anywhere) or, on power loss, garbage or zeros after the last good
 * record. The length and CRC catch both: decoding stops at the first record that is incomplete or fails its
 * CRC, and everything from there on is reported as ignored.
 * @module
 */

import { type Market, MARKETS, PROFILES } from "../binance/markets.ts";
import { crc32 } from "./crc32.ts";

/**
 * One journaled record. The kinds and their numbering belong to the pipeline (`RecordKind` in
 * lib/pipeline/records.ts, which uses this type with `K = RecordKind`); the journal stores a kind as it is.
 */
export interface JournalRecord<K extends number = number> {
  /** Local arrival time, µs since the epoch, taken before parsing. */
  localUs: number;
  market: Market;
  /** Connection id (u32); 0 for records that do not come from a connection. */
  conn: number;
  /** Record kind (u8). */
  kind: K;
  /** Symbol the record is about (a REST snapshot's, a funding page's), or "" (WebSocket frames carry their own). */
  symbol: string;
  /** The raw text (frame, REST body, event detail). */
  text: string;
}

/** A place in the journal: a segment id and a byte offset in that segment file. */
export interface JournalPosition {
  segment: number;
  offset: number;
}

/** A record read back, with where it starts. */
export interface JournalEntry extends JournalRecord, JournalPosition {}

/** Bytes a reader ignored at the end of a segment (torn by a crash, or corrupt). */
export interface JournalTail extends JournalPosition {
  ignoredBytes: number;
  reason: "torn" | "corrupt";
  detail: string;
}

/** Result of decoding at one offset: a record, the clean end, or the reason decoding must stop. */
export type DecodeStep =
  | { status: "record"; record: JournalRecord; end: number }
  | { status: "end" }
  | { status: "torn" | "corrupt"; detail: string };

/** Segment header: identifies the format and its version. */
export const SEGMENT_MAGIC: Uint8Array = new TextEncoder().encode("MDJRNL01");
/** Bytes before the first record of a segment. */
export const SEGMENT_HEADER_BYTES = SEGMENT_MAGIC.length;

const RECORD_HEADER_BYTES = 8;
const FIXED_PAYLOAD_BYTES = 16;

// Codes are stored on disk (the market profiles': never renumbered; 0 is never a market, so zero-filled
// garbage never reads as a valid record).
const MARKET_CODES: Readonly<Record<Market, number>> = Object.fromEntries(
  MARKETS.map((m) => [m, PROFILES[m].journalCode]),
) as Record<Market, number>;
const MARKET_BY_CODE: readonly (Market | undefined)[] = (() => {
  const byCode: (Market | undefined)[] = [];
  for (const m of MARKETS) byCode[MARKET_CODES[m]] = m;
  return byCode;
})();

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A record's text as given to the writer: a string, or its UTF-8 bytes (a large payload built without a string). */
export type RecordText = string | Uint8Array;

/** Upper bound of the encoded size of a record (UTF-8 needs at most 3 bytes per UTF-16 code unit). */
export function maxRecordBytes(symbol: string, text: RecordText): number {
  const textBytes = typeof text === "string" ? 3 * text.length : text.length;
  return RECORD_HEADER_BYTES + FIXED_PAYLOAD_BYTES + 3 * symbol.length + textBytes;
}

/**
 * Encodes one record at `pos` of `bytes` (`view` is a DataView over the same memory) and returns the end offset.
 * `text` may be its UTF-8 bytes already ({@link RecordText}). The caller guarantees `maxRecordBytes(symbol, text)` bytes of room. Throws `RangeError` on an out-of-range field, leaving
 * no valid record behind.
 */
export function encodeRecord(
  bytes: Uint8Array,
  view: DataView,
  pos: number,
  localUs: number,
  market: Market,
  conn: number,
  kind: number,
  symbol: string,
  text: RecordText,
): number {
  const code = MARKET_CODES[market];
  if (code === undefined) throw new RangeError(`Cannot journal record: unknown market '${market}'`);
  if (!(conn >= 0 && conn <= 0xffffffff && Number.isInteger(conn))) {
    throw new RangeError(`Cannot journal record: connection id ${conn} is not a u32`);
  }
  if (!(kind >= 0 && kind <= 0xff && Number.isInteger(kind))) {
    throw new RangeError(`Cannot journal record: kind ${kind} is not a u8`);
  }
  const p = pos + RECORD_HEADER_BYTES;
  view.setFloat64(p, localUs, true);
  bytes[p + 8] = code;
  view.setUint32(p + 9, conn, true);
  bytes[p + 13] = kind;
  const symBytes = symbol === ""
    ? 0
    : encoder.encodeInto(symbol, bytes.subarray(p + FIXED_PAYLOAD_BYTES)).written;
  if (symBytes > 0xffff) {
    throw new RangeError(`Cannot journal record: symbol is ${symBytes} bytes (max 65535)`);
  }
  view.setUint16(p + 14, symBytes, true);
  const textStart = p + FIXED_PAYLOAD_BYTES + symBytes;
  let textBytes = text.length;
  if (typeof text !== "string") bytes.set(text, textStart);
  else if (text !== "") textBytes = encoder.encodeInto(text, bytes.subarray(textStart)).written;
  const payloadBytes = FIXED_PAYLOAD_BYTES + symBytes + textBytes;
  view.setUint32(pos, payloadBytes, true);
  view.setUint32(pos + 4, crc32(bytes, p, p + payloadBytes), true);
  return p + payloadBytes;
}

/** Decodes the record at `pos`; never throws on bad data. */
export function decodeRecord(bytes: Uint8Array, view: DataView, pos: number): DecodeStep {
  const left = bytes.length - pos;
  if (left === 0) return { status: "end" };
  if (left < RECORD_HEADER_BYTES) return { status: "torn", detail: "incomplete record header" };
  const payloadBytes = view.getUint32(pos, true);
  if (payloadBytes < FIXED_PAYLOAD_BYTES) return { status: "corrupt", detail: `bad length ${payloadBytes}` };
  if (left - RECORD_HEADER_BYTES < payloadBytes) {
    return { status: "torn", detail: "incomplete record payload" };
  }
  const p = pos + RECORD_HEADER_BYTES;
  const end = p + payloadBytes;
  if (crc32(bytes, p, end) !== view.getUint32(pos + 4, true)) {
    return { status: "corrupt", detail: "checksum mismatch" };
  }
  const market = MARKET_BY_CODE[bytes[p + 8]!];
  const symBytes = view.getUint16(p + 14, true);
  if (market === undefined) return { status: "corrupt", detail: `unknown market code ${bytes[p + 8]}` };
  if (FIXED_PAYLOAD_BYTES + symBytes > payloadBytes) {
    return { status: "corrupt", detail: "symbol overruns record" };
  }
  const symStart = p + FIXED_PAYLOAD_BYTES;
  return {
    status: "record",
    record: {
      localUs: view.getFloat64(p, true),
      market,
      conn: view.getUint32(p + 9, true),
      kind: bytes[p + 13]!,
      symbol: symBytes === 0 ? "" : decoder.decode(bytes.subarray(symStart, symStart + symBytes)),
      text: decoder.decode(bytes.subarray(symStart + symBytes, end)),
    },
    end,
  };
}

/** Checks a segment's header: `ok`, `torn` (a crash cut it short) or `corrupt` (not a journal segment). */
export function checkSegmentHeader(bytes: Uint8Array): "ok" | "torn" | "corrupt" {
  const n = Math.min(bytes.length, SEGMENT_HEADER_BYTES);
  for (let i = 0; i < n; i++) if (bytes[i] !== SEGMENT_MAGIC[i]) return "corrupt";
  return n < SEGMENT_HEADER_BYTES ? "torn" : "ok";
}

/**
 * Decodes the records of one segment's bytes from offset `start` (0 = first record). Stops at the clean end or
 * at the first torn or corrupt record, which is reported through `onTail` with the bytes ignored; never throws.
 */
export function* decodeSegment(
  bytes: Uint8Array,
  segment: number,
  start: number,
  onTail: ((tail: JournalTail) => void) | undefined,
): Generator<JournalEntry> {
  const header = checkSegmentHeader(bytes);
  if (header !== "ok") {
    if (bytes.length > 0) {
      const detail = header === "torn" ? "incomplete segment header" : "not a journal segment";
      onTail?.({ segment, offset: 0, ignoredBytes: bytes.length, reason: header, detail });
    }
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = Math.max(start, SEGMENT_HEADER_BYTES);
  for (;;) {
    const step = decodeRecord(bytes, view, pos);
    if (step.status === "end") return;
    if (step.status !== "record") {
      onTail?.({
        segment,
        offset: pos,
        ignoredBytes: bytes.length - pos,
        reason: step.status,
        detail: step.detail,
      });
      return;
    }
    yield { ...step.record, segment, offset: pos };
    pos = step.end;
  }
}
