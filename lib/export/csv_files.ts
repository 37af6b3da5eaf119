/**
 * The quick test's per-symbol CSV files of one (market, table): `<SYMBOL>_<table>.csv` in one directory. No file
 * stays open (a whole market has thousands of symbols): each file's lines are queued and appended in chunks to
 * `<file>.partial`, renamed into place at the end.
 * @module
 */

import { join } from "node:path";
import { csvHeader, csvLine, type TextColumn } from "./text_rows.ts";

/** A CSV file written: its path (as given to the set, joined with its name) and data rows. */
export interface CsvFile {
  path: string;
  rows: number;
}

interface Pending {
  path: string;
  lines: string[];
  chars: number;
  rows: number;
}

/** Characters queued per file before they are appended. */
const CHUNK_CHARS = 1 << 14;

/** Per-symbol CSV files of one table under `root`/`dir`. */
export class CsvFileSet {
  readonly #files = new Map<string, Pending>();
  #dirMade = false;

  /**
   * @param root where `dir` is (paths in results are relative to it)
   * @param dir the files' directory relative to `root`, e.g. `csv/spot`; created when missing
   */
  constructor(
    readonly root: string,
    readonly dir: string,
    readonly table: string,
    readonly columns: readonly TextColumn[],
  ) {}

  /** Creates the file of `symbol` (its header), even if no row follows. */
  add(symbol: string): void {
    this.#file(symbol);
  }

  #file(symbol: string): Pending {
    let file = this.#files.get(symbol);
    if (file === undefined) {
      file = {
        path: `${this.dir}/${symbol}_${this.table}.csv`,
        lines: [csvHeader(this.columns)],
        chars: 0,
        rows: 0,
      };
      this.#files.set(symbol, file);
    }
    return file;
  }

  /** Queues one row of `symbol`; appends the file's queued lines once they make a chunk. */
  async row(symbol: string, row: Readonly<Record<string, unknown>>): Promise<void> {
    const file = this.#file(symbol);
    const line = csvLine(this.columns, row);
    file.lines.push(line);
    file.chars += line.length + 1;
    file.rows++;
    if (file.chars >= CHUNK_CHARS) await this.#append(file);
  }

  /** Writes what is queued and renames every file into place; returns them sorted by path. */
  async commit(): Promise<CsvFile[]> {
    const done: CsvFile[] = [];
    for (const file of this.#files.values()) {
      await this.#append(file);
      await Deno.rename(this.#partial(file), join(this.root, file.path));
      done.push({ path: file.path, rows: file.rows });
    }
    return done.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** Removes the partial files. */
  async abort(): Promise<void> {
    for (const file of this.#files.values()) await Deno.remove(this.#partial(file)).catch(() => {});
  }

  #partial(file: Pending): string {
    return join(this.root, `${file.path}.partial`);
  }

  async #append(file: Pending): Promise<void> {
    if (file.lines.length === 0) return;
    if (!this.#dirMade) await Deno.mkdir(join(this.root, this.dir), { recursive: true });
    this.#dirMade = true;
    const text = file.lines.join("\n") + "\n";
    file.lines = [];
    file.chars = 0;
    await Deno.writeTextFile(this.#partial(file), text, { append: true });
  }
}
