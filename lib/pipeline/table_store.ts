/**
 * The normalizer's row sink: one columnar buffer per (market, table, symbol, UTC hour), written out as Parquet
 * files on flush. A file never spans two UTC hours because rows of another hour go to another buffer. Which
 * files are committed is the ledger's business, not this store's.
 */
import type { Market } from "../binance/types.ts";
import { writeFileAtomic } from "../storage/atomic_file.ts";
import { ColumnBuffer } from "../storage/column_buffer.ts";
import { hourStartUs, parquetPath, relativeParquetPath } from "../storage/layout.ts";
import { isoMicros, type Manifest, type ManifestEntry, sha256Hex } from "../storage/manifest.ts";
import type * as arrow from "apache-arrow";
import { inlineEncoder } from "../storage/parquet_encoder.ts";
import type { Row, TableName } from "../storage/tables.ts";
import type { RowSink } from "./normalizer.ts";

/** Buffers taken for one flush. */
export interface Slot {
  market: Market;
  table: TableName;
  symbol: string;
  hourUs: number;
  buffer: ColumnBuffer<TableName>;
  /** Partition time of the first row (names the file; gaps are partitioned by start time). */
  firstUs: number;
  lastUs: number;
}

/** Some files of a flush could not be written; `written` lists those that were. */
export class FlushError extends Error {
  constructor(readonly written: ManifestEntry[], cause: unknown) {
    super(`Cannot write every Parquet file of the flush: ${String(cause)}`, { cause });
    this.name = "FlushError";
  }
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

  /**
   * @param manifest for {@link flush} only: tools and tests that write Parquet without a ledger record the files
   *   straight in a manifest; the collector commits through the ledger instead.
   */
  constructor(
    private readonly dataDir: string,
    private readonly manifest?: Manifest,
    private readonly encoder: { encode(table: arrow.Table): Promise<Uint8Array> } = inlineEncoder,
  ) {}

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
   * Takes every non-empty buffer (and those whose write failed before), swapping in empty ones: synchronous, so
   * the caller can pair it with a journal checkpoint and know exactly which records the taken rows come from.
   */
  take(): Slot[] {
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
    return due;
  }

  /** Returns taken buffers that were not written (a flush that stopped before writing), for the next take. */
  putBack(due: Slot[]): void {
    this.failed.unshift(...due);
  }

  /**
   * Writes taken buffers as Parquet files (temp file, fsync, rename). A buffer whose write fails is kept for the
   * next {@link take}; the first error is rethrown once the others were written.
   */
  async write(due: Slot[]): Promise<FlushResult> {
    const t0 = performance.now();
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
    if (firstError !== null) throw new FlushError(files, firstError);
    return { files, rows, bytes, ms: performance.now() - t0 };
  }

  /** Takes, writes and records every buffer in the manifest given at construction (no ledger involved). */
  async flush(): Promise<FlushResult> {
    if (!this.manifest) throw new TypeError("Cannot flush: this TableStore has no manifest (use take/write)");
    const result = await this.write(this.take());
    for (const e of result.files) this.manifest.add(e);
    if (result.files.length > 0) await this.manifest.save();
    return result;
  }

  private async writeSlot(slot: Slot): Promise<ManifestEntry> {
    const table = slot.buffer.toArrowTable();
    const bytes = await this.encoder.encode(table);
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
    return entry;
  }
}
