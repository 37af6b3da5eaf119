/**
 * The merge's inputs and the recordings in them. An input is a local data directory (a collector's `data_dir`,
 * or a directory that several shards synced into) or an rclone remote (`remote:path`, `:local:/path`). Its
 * Parquet files are found by listing the layout `{market}/{table}/date=YYYY-MM-DD/*.parquet` (no manifest is
 * needed, and a remote may have none). Each (input, shard in the file name) is one recording; files without a
 * shard are the input's unsharded recording.
 * @module
 */

import { join } from "node:path";
import type { Market } from "../binance/markets.ts";
import {
  fileShard,
  fileStartUs,
  hourStartUs,
  parseLegacyParquetPath,
  parseParquetPath,
} from "../storage/layout.ts";
import type { TableName } from "../storage/tables.ts";
import {
  RcloneRemote,
  type RcloneRemoteOptions,
  type RemoteListing,
  RemoteNotFoundError,
} from "./rclone_remote.ts";

/** A bad input: missing, not a data directory, holding files the merge cannot place. */
export class MergeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MergeInputError";
  }
}

/** One Parquet file of a recording. */
export interface SourceFile {
  /** Index of its recording. */
  rec: number;
  /** Index of its input. */
  input: number;
  /** Path below the input's root, `/`-separated. */
  rel: string;
  size: number;
  market: Market;
  table: TableName;
  /** Time (µs) in its name: its first row's. */
  startUs: number;
  /** Start of the UTC hour its rows are in. */
  hourUs: number;
}

/** One recording: the files of one shard (or of no shard) in one input. */
export interface Recording {
  index: number;
  input: number;
  shard: string | null;
  /** How reasons and the report name it: `s0@path` (`-@path` without a shard). */
  label: string;
  files: SourceFile[];
}

/** An input: where its files are. */
export type Input =
  | { spec: string; kind: "local"; root: string }
  | { spec: string; kind: "remote"; remote: RcloneRemote };

/** `name:path` or an rclone connection string (`:local:/path`, `:s3,provider=AWS:bucket`). */
const REMOTE_SPEC = /^(?::[A-Za-z0-9_-]+(?:,[^:]*)?|[A-Za-z0-9_][\w. -]*):/;

/** Decides what `spec` is: an existing directory, else an rclone remote; anything else is an error. */
async function classify(spec: string, rclone: RcloneRemoteOptions): Promise<Input> {
  try {
    const info = await Deno.stat(spec);
    if (!info.isDirectory) throw new MergeInputError(`${spec} is a file, not a data directory`);
    return { spec, kind: "local", root: spec };
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (REMOTE_SPEC.test(spec)) return { spec, kind: "remote", remote: new RcloneRemote(spec, rclone) };
  throw new MergeInputError(`no such directory ${spec} (an rclone remote is written remote:path)`);
}

/** Every file below `root` (paths relative to it), skipping the top-level `_` folders (journal, state, …). */
async function listLocal(root: string): Promise<RemoteListing[]> {
  const out: RemoteListing[] = [];
  const walk = async (rel: string): Promise<void> => {
    for await (const e of Deno.readDir(rel === "" ? root : join(root, rel))) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory && !(rel === "" && e.name.startsWith("_"))) await walk(child);
      else if (e.isFile) out.push({ rel: child, size: (await Deno.stat(join(root, child))).size });
    }
  };
  await walk("");
  return out;
}

/** The input's Parquet files of the layout; throws for 0.3 files and names that carry no hour. */
function layoutFiles(input: Input, listing: readonly RemoteListing[]): Omit<SourceFile, "rec" | "input">[] {
  const out: Omit<SourceFile, "rec" | "input">[] = [];
  for (const { rel, size } of listing) {
    if (!rel.endsWith(".parquet") || rel.startsWith("_")) continue;
    const parsed = parseParquetPath(rel);
    if (parsed === null) {
      if (parseLegacyParquetPath(rel) !== null) {
        throw new MergeInputError(
          `${input.spec}: ${rel} is in the 0.3 layout (symbol= directories); run deno task migrate on it first`,
        );
      }
      continue;
    }
    const startUs = fileStartUs(parsed.file);
    if (startUs === null) {
      throw new MergeInputError(
        `${input.spec}: ${rel} is not named part-HH-… or hour-HH-…, so its hour is unknown`,
      );
    }
    out.push({
      rel,
      size,
      market: parsed.market,
      table: parsed.table,
      startUs,
      hourUs: hourStartUs(startUs),
    });
  }
  return out;
}

/**
 * Opens every input and splits its files into recordings (by shard). Throws {@linkcode MergeInputError} for an
 * input that is missing or holds no Parquet files of the layout, or an input given twice.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/spot/trades/date=2024-01-02`, { recursive: true });
 * for (const name of ["part-07-1704178800000000-000001.s0.parquet", "part-07-1704178800000000-000001.s1.parquet"]) {
 *   await Deno.writeTextFile(`${dir}/spot/trades/date=2024-01-02/${name}`, "PAR1");
 * }
 * const { recordings } = await openRecordings([dir]);
 * recordings.map((r) => r.shard); // ["s0", "s1"]: two recordings in one input
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openRecordings(
  specs: readonly string[],
  rclone: RcloneRemoteOptions = {},
): Promise<{ inputs: Input[]; recordings: Recording[] }> {
  if (new Set(specs).size !== specs.length) {
    throw new MergeInputError(
      `an input is given twice: ${specs.filter((s, i) => specs.indexOf(s) !== i)[0]}`,
    );
  }
  const inputs: Input[] = [];
  const recordings: Recording[] = [];
  for (const spec of specs) {
    const input = await classify(spec, rclone);
    const index = inputs.push(input) - 1;
    let listing: RemoteListing[];
    try {
      listing = input.kind === "local" ? await listLocal(input.root) : await input.remote.list();
    } catch (err) {
      if (err instanceof RemoteNotFoundError) throw new MergeInputError(err.message);
      throw err;
    }
    const files = layoutFiles(input, listing);
    if (files.length === 0) {
      throw new MergeInputError(
        `${spec} is not a data directory: no Parquet files under {market}/{table}/date=YYYY-MM-DD/`,
      );
    }
    const byShard = Map.groupBy(files, (f) => fileShard(f.rel.slice(f.rel.lastIndexOf("/") + 1)));
    for (const shard of [...byShard.keys()].sort((a, b) => (a ?? "") < (b ?? "") ? -1 : 1)) {
      const rec = recordings.length;
      const own = byShard.get(shard)!.map((f) => ({ ...f, rec, input: index }))
        .sort((a, b) => a.startUs - b.startUs || (a.rel < b.rel ? -1 : 1));
      recordings.push({ index: rec, input: index, shard, label: `${shard ?? "-"}@${spec}`, files: own });
    }
  }
  return { inputs, recordings };
}
