/**
 * The normalizer's row sink: one columnar buffer per (market, table, UTC hour), whatever the number of symbols,
 * written out as one Parquet file per (market, table, hour) at each flush, sorted by symbol (layout.ts). A file
 * never spans two UTC hours because rows of another hour go to another buffer.
 *
 * Memory stays bounded between flushes, whatever the flush interval: when a buffer reaches `chunkBytes` its
 * arrays are handed to the Parquet jobs (a worker in the collector), which sort and encode them into the spill
 * file of the buffer's file (spill.ts); the store keeps where each chunk lies until the flush stitches the file
 * from them. Which files are committed is the ledger's business, not this store's.
 * @module
 */
import type { Market } from "../binance/types.ts";
import { ColumnBuffer, type RawChunk } from "../storage/column_buffer.ts";
import { pathExists } from "../storage/atomic_file.ts";
import { join } from "node:path";
import { parquetPath, relativeParquetPath, spillDir } from "../storage/layout.ts";
import { isoMicros, type Manifest, type ManifestEntry } from "../storage/manifest.ts";
import { EncodeError, inlineJobs, type ParquetJobs } from "../storage/parquet_jobs.ts";
import type { SpilledSegment } from "../storage/spill.ts";
import type { Row, TableName } from "../storage/tables.ts";
import type { RowSink } from "./normalizer_contract.ts";
import { HOUR_US } from "../ledger/intervals.ts";
import { runSteps } from "../steps.ts";

/** Rows of a file handed to the Parquet jobs: raw while waiting or encoding, then spilled. */
interface Part {
  rows: number;
  minTime: number;
  maxTime: number;
  raw: RawChunk | null;
  spilled: SpilledSegment | null;
  encoding: Promise<void> | null;
  /** Rows per symbol, known once encoded. */
  symbols: string[];
  symbolRows: number[];
  /** Why its last encoding failed; with `raw` null, its rows are gone (the worker that held them died). */
  error: string | null;
}

/** The rows of one file: taken by a flush, written by {@link TableStore.write}. */
export interface Slot {
  market: Market;
  table: TableName;
  hourUs: number;
  parts: Part[];
  /** The spill file of its parts (a path without its temp suffix). */
  spill: string;
  /** Partition time of the first row (names the file; gaps are partitioned by start time). */
  firstUs: number;
  lastUs: number;
}

/** A file still filling: its slot and its buffer of rows not yet handed over. */
interface Filling extends Slot {
  buffer: ColumnBuffer<TableName>;
}

/** Some files of a flush could not be written; `written` lists those that were. */
export class FlushError extends Error {
  constructor(readonly written: ManifestEntry[], cause: unknown) {
    super(`Cannot write every Parquet file of the flush: ${String(cause)}`, { cause });
    this.name = "FlushError";
  }
}

/** Rows one flush wrote of a symbol (all its tables of a market). */
export interface SymbolRows {
  market: Market;
  symbol: string;
  rows: number;
}

/** What one flush wrote. */
export interface FlushResult {
  files: ManifestEntry[];
  rows: number;
  bytes: number;
  ms: number;
  /** Rows per (market, symbol): a file holds every symbol, so its entry cannot tell. */
  symbolRows: SymbolRows[];
}

/** Options of {@link TableStore}. */
export interface TableStoreOptions {
  /**
   * For {@link TableStore.flush} only: tools and tests that write Parquet without a ledger record the files
   * straight in a manifest; the collector commits through the ledger instead.
   */
  manifest?: Manifest;
  /** Where sorting, encoding and file writes run. @default inlineJobs (the calling thread) */
  jobs?: ParquetJobs;
  /** A buffer is handed to the jobs for encoding when it holds this many bytes. @default 2 MiB */
  chunkBytes?: number;
  /** The shard named in file names (several collectors sync into one remote); null without shards. */
  shard?: string | null;
}

function partOf(chunk: RawChunk): Part {
  return {
    rows: chunk.rows,
    minTime: chunk.minTime,
    maxTime: chunk.maxTime,
    raw: chunk,
    spilled: null,
    encoding: null,
    symbols: [],
    symbolRows: [],
    error: null,
  };
}

/**
 * Buffers rows per (market, table, hour) and flushes them to Parquet files (at most one per market, table and
 * hour per flush).
 *
 * @example
 * ```ts
 * import { Manifest } from "../storage/manifest.ts";
 * import type { Row } from "../storage/tables.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const manifest = await Manifest.load(dataDir);
 * const store = new TableStore(dataDir, { manifest });
 * const localUs = Date.UTC(2024, 0, 2, 7) * 1000;
 * const tradeRow: Row<"trades"> = {
 *   symbol: "BTCUSDT", exchange_time: localUs - 5000, trade_time: localUs - 6000, local_time: localUs,
 *   agg_trade_id: 7, first_trade_id: 9, last_trade_id: 9, price: 42000.5, quantity: 0.01, is_buyer_maker: false,
 *   source: "ws",
 * };
 * store.row("spot", "trades", "BTCUSDT", localUs, tradeRow);
 * const flushed = await store.flush(); // spot/trades/date=…/part-HH-….parquet, listed in the manifest
 * flushed.files.map((f) => f.path); // ["spot/trades/date=2024-01-02/part-07-1704178800000000-000000.parquet"]
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class TableStore implements RowSink {
  /** The buffer rows of (market, table) went to last: the current hour, found without building a key. */
  readonly #latest: Record<Market, Partial<Record<TableName, Filling>>> = { spot: {}, usdm: {}, coinm: {} };
  /** Every file still filling, by `market/table/hourUs`. */
  readonly #filling = new Map<string, Filling>();
  /** Taken files whose write failed, retried first by the next flush. */
  readonly #failed: Slot[] = [];
  /** Arrays of encoded chunks, per table, for the next buffer of that table. */
  readonly #spares = new Map<TableName, RawChunk>();
  readonly #dataDir: string;
  readonly #manifest: Manifest | undefined;
  readonly #jobs: ParquetJobs;
  readonly #chunkBytes: number;
  readonly #shard: string | null;
  #bytesHeld = 0;
  #seq = 0;
  #spillSeq = 0;

  constructor(dataDir: string, options: TableStoreOptions = {}) {
    this.#dataDir = dataDir;
    this.#manifest = options.manifest;
    this.#jobs = options.jobs ?? inlineJobs;
    this.#chunkBytes = options.chunkBytes ?? 2 << 20;
    this.#shard = options.shard ?? null;
  }

  /** Approximate bytes of memory held: rows buffered or being encoded (compared with `max_buffer_mb`). */
  get bufferedBytes(): number {
    return this.#bytesHeld;
  }

  row<N extends TableName>(
    market: Market,
    table: N,
    _symbol: string,
    partitionUs: number,
    row: Row<N>,
  ): void {
    const hourUs = partitionUs - partitionUs % HOUR_US;
    let f = this.#latest[market][table];
    if (f === undefined || f.hourUs !== hourUs) f = this.#fillingFor(market, table, hourUs);
    const buffer = f.buffer as ColumnBuffer<N>;
    const before = buffer.byteSize;
    buffer.append(row);
    this.#bytesHeld += buffer.byteSize - before;
    if (buffer.rows === 1 && f.parts.length === 0) f.firstUs = partitionUs;
    f.lastUs = partitionUs;
    if (buffer.byteSize >= this.#chunkBytes) this.#seal(f);
  }

  /**
   * Takes every file with rows (and those whose write failed before), starting each anew: synchronous, so the
   * caller can pair it with a journal checkpoint and know exactly which records the taken rows come from. The
   * rows still buffered are handed to the Parquet jobs now.
   */
  take(): Slot[] {
    return runSteps(this.takeSteps());
  }

  /**
   * {@link take} a step at a time: it yields after each file's buffered rows were handed to the jobs, so that a
   * flush can spread it over turns of the event loop (no row may be added until it returns).
   */
  *takeSteps(): Generator<void, Slot[]> {
    const due: Slot[] = this.#failed.splice(0);
    let newest = -Infinity;
    for (const f of this.#filling.values()) newest = Math.max(newest, f.hourUs);
    for (const [key, f] of this.#filling) {
      if (f.buffer.rows > 0) {
        this.#seal(f);
        yield;
      }
      if (f.parts.length > 0) {
        const { market, table, hourUs, parts, spill, firstUs, lastUs } = f;
        due.push({ market, table, hourUs, parts, spill, firstUs, lastUs });
        f.parts = [];
        f.spill = this.#spillName(market, table, hourUs);
      }
      // Past hours are finished (a late gap row of one starts a new file).
      if (f.hourUs < newest) {
        this.#filling.delete(key);
        if (this.#latest[f.market][f.table] === f) this.#latest[f.market][f.table] = undefined;
      }
    }
    return due;
  }

  /** Returns taken files that were not written (a flush that stopped before writing), for the next take. */
  putBack(due: Slot[]): void {
    this.#failed.unshift(...due);
  }

  /**
   * Writes taken files as Parquet (temp file, fsync, rename), each file's spilled chunks stitched together. A
   * file whose write fails is kept for the next {@link take}; the first error is rethrown (as a
   * {@link FlushError}) once the others were written.
   */
  async write(due: Slot[]): Promise<FlushResult> {
    const t0 = performance.now();
    const files: ManifestEntry[] = [];
    let rows = 0;
    let bytes = 0;
    let firstError: unknown = null;
    const perSymbol = new Map<string, SymbolRows>();
    for (const slot of due) {
      try {
        const entry = await this.#writeSlot(slot);
        files.push(entry);
        rows += entry.rows;
        bytes += entry.bytes;
        for (const p of slot.parts) {
          p.symbols.forEach((symbol, k) => {
            const key = `${slot.market}/${symbol}`;
            const s = perSymbol.get(key) ??
              perSymbol.set(key, { market: slot.market, symbol, rows: 0 }).get(key)!;
            s.rows += p.symbolRows[k]!;
          });
        }
      } catch (err) {
        this.#failed.push(slot);
        firstError ??= err;
      }
    }
    if (firstError !== null) throw new FlushError(files, firstError);
    return { files, rows, bytes, ms: performance.now() - t0, symbolRows: [...perSymbol.values()] };
  }

  /** Takes, writes and records every file in the manifest given at construction (no ledger involved). */
  async flush(): Promise<FlushResult> {
    if (!this.#manifest) {
      throw new TypeError("Cannot flush: this TableStore has no manifest (use take/write)");
    }
    const result = await this.write(this.take());
    for (const e of result.files) this.#manifest.add(e);
    if (result.files.length > 0) await this.#manifest.save();
    return result;
  }

  #fillingFor(market: Market, table: TableName, hourUs: number): Filling {
    const key = `${market}/${table}/${hourUs}`;
    let f = this.#filling.get(key);
    if (!f) {
      f = {
        market,
        table,
        hourUs,
        parts: [],
        spill: this.#spillName(market, table, hourUs),
        firstUs: hourUs,
        lastUs: hourUs,
        buffer: new ColumnBuffer(table),
      };
      this.#filling.set(key, f);
    }
    const latest = this.#latest[market][table];
    if (latest === undefined || latest.hourUs <= hourUs) this.#latest[market][table] = f;
    return f;
  }

  /** A spill file name of its own for the parts of one file. */
  #spillName(market: Market, table: TableName, hourUs: number): string {
    return join(spillDir(this.#dataDir), `${market}-${table}-${hourUs}-${this.#spillSeq++}`);
  }

  /** Hands the buffer's rows to the jobs for encoding (the buffer goes on with spare arrays). */
  #seal(f: Filling): void {
    const spare = this.#spares.get(f.table);
    this.#spares.delete(f.table);
    const part = partOf(f.buffer.detach(spare));
    f.parts.push(part);
    this.#encode(part, f.spill);
  }

  #encode(part: Part, spill: string): void {
    const chunk = part.raw!;
    part.encoding = this.#jobs.encodeChunk(chunk, spill).then(
      ({ spilled, symbols, rows, chunk: back }) => {
        part.raw = null;
        part.spilled = spilled;
        part.symbols = symbols;
        part.symbolRows = rows;
        // Spilled, its rows no longer take memory (a written slot's parts are all spilled).
        this.#bytesHeld -= chunk.bytes;
        this.#spares.set(back.table, back);
      },
      (err) => {
        // The rows come back with the error and are encoded again at the write; without them they are gone.
        part.raw = err instanceof EncodeError ? err.chunk : null;
        part.error = String(err);
      },
    ).finally(() => part.encoding = null);
  }

  async #writeSlot(slot: Slot): Promise<ManifestEntry> {
    for (const part of slot.parts) {
      if (part.encoding) await part.encoding;
      if (part.raw !== null) {
        this.#encode(part, slot.spill);
        await part.encoding;
      }
      if (part.spilled === null) {
        throw new Error(
          `Cannot write ${slot.market}/${slot.table}: ${part.error ?? "a chunk failed to encode"}`,
        );
      }
    }
    let key = {
      market: slot.market,
      table: slot.table,
      firstLocalUs: slot.firstUs,
      seq: this.#seq++,
      shard: this.#shard,
    };
    // A name is never reused: a file committed by an earlier run may start at the same microsecond.
    while (await pathExists(parquetPath(this.#dataDir, key))) key = { ...key, seq: this.#seq++ };
    const written = await this.#jobs.writeFile(
      parquetPath(this.#dataDir, key),
      slot.parts.map((p) => p.spilled!),
    );
    return {
      path: relativeParquetPath(key),
      sha256: written.sha256,
      rows: slot.parts.reduce((n, p) => n + p.rows, 0),
      bytes: written.bytes,
      first_local_time: isoMicros(Math.min(...slot.parts.map((p) => p.minTime))),
      last_local_time: isoMicros(Math.max(...slot.parts.map((p) => p.maxTime))),
      market: slot.market,
      table: slot.table,
    };
  }
}
