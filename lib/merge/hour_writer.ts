/**
 * Writes one merged file of a (market, table, hour) the way the hourly compaction does (hour_merge.ts): rows
 * arrive symbol by symbol in output order, are buffered in a {@link ColumnBuffer}, and leave as row groups cut
 * where the symbol changes ({@link planRowGroups} with the compacted files' sizes), stitched into one file
 * ({@link ParquetAssembler}) that is written piece by piece to a temp file and renamed into place
 * ({@link AtomicFileWriter}). The file is named like a compacted one, `hour-HH-<first µs>-<tag>.parquet`.
 * @module
 */

import { createHash } from "node:crypto";
import type { Market } from "../binance/markets.ts";
import { AtomicFileWriter } from "../storage/atomic_file.ts";
import { HOUR_ROW_GROUPS, planRowGroups, symbolOrder, writeParts } from "../storage/chunk_encoder.ts";
import { ColumnBuffer } from "../storage/column_buffer.ts";
import { compactedFileName, partitionDir, utcDate } from "../storage/layout.ts";
import { isoMicros, type ManifestEntry } from "../storage/manifest.ts";
import { ParquetAssembler } from "../storage/parquet_assembler.ts";
import type { Row, TableName } from "../storage/tables.ts";

/** Where a merged file goes and how it is named. */
export interface HourFileTarget {
  market: Market;
  table: TableName;
  /** Time (µs) in the file's name: the first time of its sources (a time in the hour of its rows). */
  nameUs: number;
  /** 8 hex digits that tell files of one partition and hour apart. */
  tag: string;
}

/**
 * One merged file, written as rows come; nothing is on disk until the first rows and nothing at its path until
 * {@link finish}.
 *
 * @example
 * ```ts
 * const out = await Deno.makeTempDir();
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000;
 * const w = new HourFileWriter(out, { market: "usdm", table: "funding_rates", nameUs: hourUs, tag: "0a1b2c3d" });
 * await w.append([{ symbol: "BTCUSDT", funding_time: hourUs, funding_rate: 1e-4, mark_price: null, local_time: hourUs }]);
 * const entry = await w.finish(); // its manifest entry: path, sha256, rows 1, bytes, time range
 * entry!.path; // "usdm/funding_rates/date=2024-01-02/hour-07-1704178800000000-0a1b2c3d.parquet"
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export class HourFileWriter {
  readonly path: string;
  readonly #buffer: ColumnBuffer<TableName>;
  readonly #asm = new ParquetAssembler();
  readonly #hash = createHash("sha256");
  #out: AtomicFileWriter | null = null;
  #bytes = 0;
  #minTime = Infinity;
  #maxTime = -Infinity;
  #lastSymbol: string | null = null;

  constructor(readonly outDir: string, readonly target: HourFileTarget) {
    const date = utcDate(target.nameUs);
    this.path = `${partitionDir(target.market, target.table, date)}/${
      compactedFileName(target.nameUs, target.tag)
    }`;
    this.#buffer = new ColumnBuffer(target.table);
  }

  /** Rows written so far (encoded or buffered). */
  get rows(): number {
    return this.#asm.rows + this.#buffer.rows;
  }

  /** Appends rows of the table in output order (symbols ascending, each symbol's rows together). */
  async append(rows: readonly (Readonly<Record<string, unknown>> & { symbol: string })[]): Promise<void> {
    for (const row of rows) {
      // A row group may end at a symbol change once it is big enough, and must end when it is too big.
      if (row.symbol !== this.#lastSymbol && this.#buffer.byteSize >= HOUR_ROW_GROUPS.minBytes) {
        await this.#encode();
      }
      this.#buffer.append(row as unknown as Row<TableName>);
      this.#lastSymbol = row.symbol;
      if (this.#buffer.byteSize >= HOUR_ROW_GROUPS.maxBytes) await this.#encode();
    }
  }

  /** Writes the rest, the footer, and renames the file into place; null (nothing written) without rows. */
  async finish(): Promise<ManifestEntry | null> {
    try {
      if (this.#buffer.rows > 0) await this.#encode();
      if (this.#out === null) return null;
      await this.#write(this.#asm.finish());
      await this.#out.commit();
    } catch (err) {
      await this.abort();
      throw err;
    }
    return {
      path: this.path,
      sha256: this.#hash.digest("hex"),
      rows: this.#asm.rows,
      bytes: this.#bytes,
      first_local_time: isoMicros(this.#minTime),
      last_local_time: isoMicros(this.#maxTime),
      market: this.target.market,
      table: this.target.table,
    };
  }

  /** Drops the temp file (after a failure). */
  async abort(): Promise<void> {
    await this.#out?.abort();
  }

  async #encode(): Promise<void> {
    const chunk = this.#buffer.detach();
    if (chunk.rows === 0) return;
    if (this.#out === null) {
      this.#out = await AtomicFileWriter.open(`${this.outDir}/${this.path}`);
      await this.#write(this.#asm.head());
    }
    // The rows are in symbol order already: the stable sort keeps them, and gives the runs to cut at.
    const { order, runs } = symbolOrder(chunk);
    const groups = planRowGroups(runs, chunk.bytes / chunk.rows, HOUR_ROW_GROUPS);
    await writeParts(this.#asm, chunk, order, groups, (piece) => this.#write(piece));
    this.#minTime = Math.min(this.#minTime, chunk.minTime);
    this.#maxTime = Math.max(this.#maxTime, chunk.maxTime);
  }

  async #write(piece: Uint8Array): Promise<void> {
    this.#hash.update(piece);
    this.#bytes += piece.length;
    await this.#out!.write(piece);
  }
}
