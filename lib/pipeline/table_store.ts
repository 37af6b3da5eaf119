/**
 * The normalizer's row sink: one columnar buffer per (market, table, symbol, UTC hour), written out as Parquet
 * files on flush. A file never spans two UTC hours because rows of another hour go to another buffer.
 */
import type { Market } from "../binance/types.ts";
import { writeFileAtomic } from "../storage/atomic_file.ts";
import { ColumnBuffer } from "../storage/column_buffer.ts";
import { hourStartUs, parquetPath, relativeParquetPath } from "../storage/layout.ts";
import { isoMicros, type Manifest, type ManifestEntry, sha256Hex } from "../storage/manifest.ts";
import { encodeParquet } from "../storage/parquet_file.ts";
import type { Row, TableName } from "../storage/tables.ts";
import type { RowSink } from "./normalizer.ts";

interface Slot {
  market: Market;
  table: TableName;
  symbol: string;
  hourUs: number;
  buffer: ColumnBuffer<TableName>;
  /** Partition time of the first row (names the file; gaps are partitioned by start time). */
  firstUs: number;
  lastUs: number;
}

/** What one flush wrote. */
export interface FlushResult {
  files: ManifestEntry[];
  rows: number;
  bytes: number;
  ms: number;
}

/** Buffers rows per partition and flushes them to Parquet files listed in the manifest. */
export class TableStore implements RowSink {
  /** market → table → symbol → slots of that partition, the most recent hour last. */
  private readonly slots = new Map<string, Slot[]>();
  /** Buffers whose write failed, retried first by the next flush. */
  private readonly failed: Slot[] = [];
  private bytesHeld = 0;
  private seq = 0;

  constructor(private readonly dataDir: string, private readonly manifest: Manifest) {}

  /** Approximate bytes buffered (compared with `max_buffer_mb`). */
  get bufferedBytes(): number {
    return this.bytesHeld;
  }

  row<N extends TableName>(market: Market, table: N, symbol: string, partitionUs: number, row: Row<N>): void {
    const key = `${market}\u0000${table}\u0000${symbol}`;
    let list = this.slots.get(key);
    if (!list) this.slots.set(key, list = []);
    const hourUs = hourStartUs(partitionUs);
    let slot = list[list.length - 1];
    if (!slot || slot.hourUs !== hourUs) {
      slot = list.find((s) => s.hourUs === hourUs);
      if (!slot) {
        slot = {
          market,
          table,
          symbol,
          hourUs,
          buffer: new ColumnBuffer(table),
          firstUs: partitionUs,
          lastUs: 0,
        };
        list.push(slot);
      }
    }
    const before = slot.buffer.byteSize;
    (slot.buffer as ColumnBuffer<N>).append(row);
    this.bytesHeld += slot.buffer.byteSize - before;
    if (slot.buffer.rows === 1) slot.firstUs = partitionUs;
    slot.lastUs = partitionUs;
  }

  /**
   * Writes every non-empty buffer as a Parquet file (temp file, fsync, rename), then saves the manifest.
   * Each buffer is swapped for an empty one before its write starts, so rows arriving during the flush go to
   * the next one. A buffer whose write fails is kept and written first by the next flush; the first error is
   * rethrown once the others were written.
   */
  async flush(): Promise<FlushResult> {
    const t0 = performance.now();
    const due: Slot[] = this.failed.splice(0);
    for (const [key, list] of this.slots) {
      for (const slot of list) {
        if (slot.buffer.rows > 0) {
          due.push({ ...slot });
          slot.buffer = new ColumnBuffer(slot.table);
        }
      }
      // Past hours are finished: keep only the latest (possibly still filling) partition buffer.
      this.slots.set(key, list.slice(-1));
    }
    const files: ManifestEntry[] = [];
    let rows = 0;
    let bytes = 0;
    let firstError: unknown = null;
    for (const slot of due) {
      try {
        const entry = await this.writeSlot(slot);
        files.push(entry);
        rows += entry.rows;
        bytes += entry.bytes;
        this.bytesHeld -= slot.buffer.byteSize;
      } catch (err) {
        this.failed.push(slot);
        firstError ??= err;
      }
    }
    if (files.length > 0) await this.manifest.save();
    if (firstError !== null) throw firstError;
    return { files, rows, bytes, ms: performance.now() - t0 };
  }

  private async writeSlot(slot: Slot): Promise<ManifestEntry> {
    const table = slot.buffer.toArrowTable();
    const bytes = encodeParquet(table);
    const key = {
      market: slot.market,
      table: slot.table,
      symbol: slot.symbol,
      firstLocalUs: Math.max(slot.firstUs, slot.hourUs),
      seq: this.seq++,
    };
    await writeFileAtomic(parquetPath(this.dataDir, key), bytes);
    const entry: ManifestEntry = {
      path: relativeParquetPath(key),
      sha256: await sha256Hex(bytes),
      rows: table.numRows,
      bytes: bytes.length,
      first_local_time: isoMicros(slot.buffer.minTime ?? slot.firstUs),
      last_local_time: isoMicros(slot.buffer.maxTime ?? slot.lastUs),
      market: slot.market,
      table: slot.table,
      symbol: slot.symbol,
    };
    this.manifest.add(entry);
    return entry;
  }
}
