/**
 * Reads the fleet from the shared remote: one `rclone copy` brings `_fleet/*.json` and the `gaps` Parquet files
 * of the day (and of the day before, whose last gaps may run into it) into a temp directory, which is then read
 * file by file, a Parquet file one row group at a time, into a {@linkcode FleetAccumulator}: memory holds the
 * totals and one file's worth of JSON or one row group, whatever the number of shards and gaps.
 * @module
 */

import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { type Market, MARKETS } from "../binance/types.ts";
import type { Rclone } from "../cloud/rclone.ts";
import { gapRowsFromTable } from "../report/gap_rows.ts";
import { DAY_US, utcDayStartUs } from "../ledger/intervals.ts";
import { fileShard, utcDate } from "../storage/layout.ts";
import { extractRowGroups } from "../storage/parquet_assembler.ts";
import { fileSource, readFileFooter } from "../storage/parquet_footer.ts";
import type { Row } from "../storage/tables.ts";
import { FLEET_DIR, fleetFileKind, parseHeartbeat, parseShardManifest, UNSHARDED } from "./files.ts";
import { FleetAccumulator, type FleetSummary } from "./summary.ts";

/** The remote cannot be read at all (missing, unreachable, rclone failing). */
export class FleetReadError extends Error {
  constructor(readonly remote: string, detail: string, options?: ErrorOptions) {
    super(`Cannot read the fleet at ${remote}: ${detail}`, options);
    this.name = "FleetReadError";
  }
}

/** What {@linkcode readFleet} reads. */
export interface FleetReadOptions {
  rclone: Rclone;
  /** The shards' shared rclone root (`s3:bucket/binance`, `:local:/path`, or a local directory). */
  remote: string;
  /** The UTC day, `YYYY-MM-DD`. */
  date: string;
  nowMs: number;
  /** A heartbeat older than this (and no clean stop) makes its shard silent. */
  silentAfterMs: number;
}

/** Calls `onRows` with the `gaps` rows of a Parquet file, one row group at a time. */
export async function readGapFile(path: string, onRows: (rows: Row<"gaps">[]) => void): Promise<void> {
  const file = await Deno.open(path, { read: true });
  try {
    const src = await fileSource(file);
    const footer = await readFileFooter(src);
    for (const g of footer.groups) {
      const bytes = await extractRowGroups(src, footer, [g.index]);
      onRows(gapRowsFromTable(arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream())));
    }
  } finally {
    file.close();
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort();
}

async function readFleetFiles(dir: string, acc: FleetAccumulator): Promise<void> {
  for (const name of await names(join(dir, FLEET_DIR))) {
    const kind = fleetFileKind(name);
    if (kind === null) continue;
    const rel = `${FLEET_DIR}/${name}`;
    try {
      const text = await Deno.readTextFile(join(dir, rel));
      if (kind.kind === "heartbeat") {
        const hb = parseHeartbeat(text, rel);
        if (hb.shard !== kind.shard) throw new Error(`Cannot read ${rel}: it names shard '${hb.shard}'`);
        acc.addHeartbeat(hb);
      } else {
        const m = parseShardManifest(text, rel);
        if (m.shard !== kind.shard) throw new Error(`Cannot read ${rel}: it names shard '${m.shard}'`);
        acc.addManifest(m);
      }
    } catch (err) {
      acc.addProblem(err instanceof Error ? err.message : String(err));
    }
  }
}

async function readGapFiles(dir: string, days: readonly string[], acc: FleetAccumulator): Promise<void> {
  for (const market of MARKETS) {
    for (const day of days) {
      const partition = join(dir, market, "gaps", `date=${day}`);
      for (const name of await names(partition)) {
        if (!name.endsWith(".parquet")) continue;
        const shard = fileShard(name) ?? UNSHARDED;
        try {
          await readGapFile(join(partition, name), (rows) => {
            for (const row of rows) acc.addGap(shard, market as Market, row);
          });
        } catch (err) {
          acc.addProblem(`Cannot read ${market}/gaps/date=${day}/${name}: ${err}`);
        }
      }
    }
  }
}

/**
 * The fleet's summary of `date` from the remote. Unreadable fleet or gap files become the summary's problems;
 * a remote that cannot be read at all throws {@linkcode FleetReadError}.
 */
export async function readFleet(options: FleetReadOptions): Promise<FleetSummary> {
  const { rclone, remote, date, nowMs, silentAfterMs } = options;
  const acc = new FleetAccumulator(date, nowMs, silentAfterMs);
  const before = utcDate(utcDayStartUs(date) - DAY_US);
  const days = [before, date];
  const tmp = await Deno.makeTempDir({ prefix: "fleet-" });
  try {
    try {
      await rclone.copyMatching(remote, tmp, [
        `/${FLEET_DIR}/*.json`,
        ...days.map((d) => `/*/gaps/date=${d}/*.parquet`),
      ]);
    } catch (err) {
      throw new FleetReadError(remote, err instanceof Error ? err.message : String(err), { cause: err });
    }
    await readFleetFiles(tmp, acc);
    await readGapFiles(tmp, days, acc);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return acc.summary();
}
