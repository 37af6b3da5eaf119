/**
 * Test helpers for the text outputs of `deno task export` and `deno task quick`: a CSV parser and checks that a
 * CSV or JSON-lines record holds exactly the values of a row read back from Parquet.
 */
import assert from "node:assert/strict";
import { isoMicros } from "../../lib/storage/manifest.ts";
import type { ColumnSpec, TableName } from "../../lib/storage/tables.ts";
import { TABLES } from "../../lib/storage/tables.ts";

/** Parses RFC 4180 CSV (quoted cells with `""`, CRLF or LF) into records of cells. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(cell);
      records.push(record);
      record = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || record.length > 0) records.push([...record, cell]);
  return records;
}

/**
 * The CSV header `export` writes for `table` (each timestamp column followed by `<name>_iso`; with `levels`,
 * list columns spread level by level), spelled out here independently of the code under test.
 */
export function expectedHeader(table: TableName, levels?: number): string[] {
  const columns = TABLES[table].columns as readonly ColumnSpec[];
  const lists = columns.filter((c) => c.type === "list_float64").map((c) => c.name);
  const out: string[] = [];
  for (const c of columns) {
    if (c.type === "timestamp") out.push(c.name, `${c.name}_iso`);
    else if (c.type === "list_float64" && levels !== undefined) {
      if (c.name !== lists[0]) continue;
      for (let level = 1; level <= levels; level++) out.push(...lists.map((l) => `${l}[${level}]`));
    } else out.push(c.name);
  }
  return out;
}

/** Asserts that CSV `cells` under `header` hold exactly `row` (a Parquet row as read_rows.ts gives it). */
export function assertCsvRecord(
  header: readonly string[],
  cells: readonly string[],
  row: Record<string, unknown>,
) {
  assert.equal(cells.length, header.length, `cells of ${JSON.stringify(row)}`);
  header.forEach((name, i) => {
    const cell = cells[i]!;
    const where = `${name} of ${JSON.stringify(row)}`;
    const level = /^(\w+)\[(\d+)\]$/.exec(name);
    if (level) {
      const v = (row[level[1]!] as number[])[Number(level[2]) - 1];
      if (v === undefined) assert.equal(cell, "", where);
      else assert.equal(Number(cell), v, where);
      return;
    }
    if (name.endsWith("_iso") && !(name in row)) {
      const v = row[name.slice(0, -4)] as number | null;
      assert.equal(cell, v === null ? "" : isoMicros(v), where);
      return;
    }
    const v = row[name];
    if (v === null) assert.equal(cell, "", where);
    else if (typeof v === "number") assert.equal(Number(cell), v, where);
    else if (typeof v === "boolean") assert.equal(cell, String(v), where);
    else if (Array.isArray(v)) assert.deepEqual(JSON.parse(cell), v, where);
    else assert.equal(cell, v, where);
  });
}

/** Asserts that a JSON-lines object holds exactly `row`, each timestamp also as `<name>_iso`. */
export function assertJsonRecord(
  table: TableName,
  object: Record<string, unknown>,
  row: Record<string, unknown>,
) {
  assert.deepEqual(Object.keys(object), expectedHeader(table));
  for (const c of TABLES[table].columns as readonly ColumnSpec[]) {
    assert.deepEqual(object[c.name], row[c.name], `${c.name} of ${JSON.stringify(row)}`);
    if (c.type === "timestamp") {
      const v = row[c.name] as number | null;
      assert.equal(object[`${c.name}_iso`], v === null ? null : isoMicros(v));
    }
  }
}

/** Runs `deno task --quiet <args>` from the repository root, as a user types it. */
export async function task(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: new URL("../..", import.meta.url),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}
