/**
 * Reading the write-ahead journal back (recovery, the raw archive, tests): its segment files in order, each up
 * to a torn or corrupt tail (a crash tears the last segment of a run; the next run starts a new one).
 * @module
 */

import { basename } from "node:path";
import { listSegments, SEGMENT_NAME, segmentPath } from "./journal.ts";
import {
  decodeSegment,
  type JournalEntry,
  type JournalPosition,
  type JournalTail,
} from "./journal_format.ts";

/** Options of {@linkcode readJournal} and {@linkcode readSegments}. */
export interface ReadJournalOptions {
  /** Start here (`offset` 0 means the first record); earlier segments are skipped by `readSegments`. */
  from?: JournalPosition;
  /** Called for each segment whose tail was ignored. */
  onTail?: (tail: JournalTail) => void;
}

/**
 * Reads the records of one segment file in order. A torn or corrupt tail ends the iteration quietly and is
 * reported through `onTail`; only I/O errors (e.g. a missing file) throw.
 */
export async function* readJournal(
  path: string,
  options: ReadJournalOptions = {},
): AsyncGenerator<JournalEntry> {
  const m = SEGMENT_NAME.exec(basename(path));
  if (!m) throw new RangeError(`Cannot read journal ${path}: the name is not {id:010}.wal`);
  const segment = Number(m[1]);
  if (options.from !== undefined && options.from.segment > segment) return;
  const start = options.from?.segment === segment ? options.from.offset : 0;
  yield* decodeSegment(await Deno.readFile(path), segment, start, options.onTail);
}

/**
 * Reads all segments in `dir` in order (from `options.from` on). Reading continues with the next segment after
 * an ignored tail, since a crash tears the last segment of a run and the next run starts a new one.
 *
 * @example
 * ```ts
 * import { planStreams } from "../binance/stream_plan.ts";
 * import { MarketNormalizer } from "../pipeline/normalizer.ts";
 * import { RecordKind } from "../pipeline/records.ts";
 * import { JournalWriter } from "./journal.ts";
 *
 * const plan = planStreams({
 *   market: "spot", wsUrl: "wss://stream.binance.com:9443", symbols: ["BTCUSDT"], streams: ["aggTrade"],
 * });
 * const dir = await Deno.makeTempDir(); // journalDir(dataDir) in the collector
 * const journal = await JournalWriter.open(dir);
 * const t = 1_704_178_800_000_000;
 * journal.append(t, "spot", 1, RecordKind.ConnOpen, "", plan.connections[0]!.key);
 * journal.append(t + 1, "spot", 1, RecordKind.Subscribed, "", "");
 * const trade = { e: "aggTrade", E: 1704178800000, a: 7, p: "42000.5", q: "0.01", f: 9, l: 9, T: 1704178799999 };
 * const frame = JSON.stringify({ stream: "btcusdt@aggTrade", data: { ...trade, m: false } });
 * journal.append(t + 2, "spot", 1, RecordKind.Frame, "", frame);
 * await journal.close();
 *
 * // A replay: the same normalizer as live, its rows going to a sink (the collector's table store).
 * const rows: string[] = [];
 * const sink = { row: (_market: string, table: string, symbol: string) => void rows.push(`${table} ${symbol}`) };
 * const normalizer = new MarketNormalizer(plan, sink, { needSnapshot: () => {} }, { topLevels: 5 });
 * for await (const rec of readSegments(dir, { onTail: (t) => console.warn(t) })) {
 *   normalizer.process(rec);
 * }
 * rows; // ["trades BTCUSDT"]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* readSegments(
  dir: string,
  options: ReadJournalOptions = {},
): AsyncGenerator<JournalEntry> {
  for (const id of await listSegments(dir)) {
    if (options.from !== undefined && id < options.from.segment) continue;
    yield* readJournal(segmentPath(dir, id), options);
  }
}
