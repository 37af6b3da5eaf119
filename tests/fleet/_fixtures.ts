/** Hand-made fleet inputs: heartbeats, manifest entries, gap rows and `gaps` Parquet files. */
import { dirname } from "node:path";
import type { Market } from "../../lib/binance/types.ts";
import type { Heartbeat, ShardManifest } from "../../lib/fleet/files.ts";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import { compactedFileName, partitionDir, utcDate } from "../../lib/storage/layout.ts";
import { isoMicros, type ManifestEntry } from "../../lib/storage/manifest.ts";
import { encodeParquet, writeFileAtomic } from "../../lib/storage/parquet_file.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";

/** 2026-03-01 00:00 UTC. */
export const DAY_MS = Date.UTC(2026, 2, 1);
export const DATE = "2026-03-01";
export const HOUR_US = 3_600_000_000;
/** The summaries' clock: 12:00 on the day. */
export const NOW_MS = DAY_MS + 12 * 3_600_000;

/** A live heartbeat of shard `s<index>` of `count`, written a minute before {@linkcode NOW_MS}. */
export function heartbeat(index: number, over: Partial<Heartbeat> = {}): Heartbeat {
  return {
    format: 1,
    shard: `s${index}`,
    index,
    count: 3,
    replicas: 1,
    host: `vm-${index}`,
    version: "0.4.0",
    startedAtMs: NOW_MS - 3_600_000,
    atMs: NOW_MS - 60_000,
    stoppedAtMs: null,
    lastFlushMs: NOW_MS - 61_000,
    lastUploadMs: NOW_MS - 1_800_000,
    symbols: { spot: [] },
    books: { synced: 0, total: 0 },
    messagesPerSec: 100,
    ...over,
  };
}

/** A compacted file's entry of `shard`, starting at `hour` of the day `dayMs` and lasting `minutes`. */
export function entry(
  shard: string,
  market: Market,
  table: TableName,
  hour: number,
  rows: number,
  o: { dayMs?: number; minutes?: number; bytes?: number } = {},
): ManifestEntry {
  const first = ((o.dayMs ?? DAY_MS) + hour * 3_600_000) * 1000;
  const last = first + (o.minutes ?? 59) * 60_000_000;
  return {
    path: `${partitionDir(market, table, utcDate(first))}/${compactedFileName(first, "0a1b2c3d", shard)}`,
    sha256: "0".repeat(64),
    rows,
    bytes: o.bytes ?? rows * 10,
    first_local_time: isoMicros(first),
    last_local_time: isoMicros(last),
    market,
    table,
  };
}

/** A shard manifest of `files`. */
export function shardManifest(shard: string, files: ManifestEntry[]): ShardManifest {
  return { format: 1, shard, atMs: NOW_MS - 60_000, days: [DATE], files };
}

/** A gap row of `symbol` from `startMin` minutes into the day, `minutes` long. */
export function gapRow(
  symbol: string,
  stream: string,
  kind: string,
  startMin: number,
  minutes: number,
): Row<"gaps"> {
  const start = (DAY_MS + startMin * 60_000) * 1000;
  return {
    symbol,
    stream,
    kind,
    start_time: start,
    end_time: start + minutes * 60_000_000,
    last_update_id: null,
    resume_update_id: null,
    reason: "test",
  };
}

/** Writes `rows` as a `gaps` Parquet file of `shard` under `root` (a data dir or a remote directory). */
export async function writeGapFile(
  root: string,
  market: Market,
  shard: string | null,
  rows: Row<"gaps">[],
  tag = "0a1b2c3d",
): Promise<string> {
  const buffer = new ColumnBuffer("gaps");
  for (const r of [...rows].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))) {
    buffer.append(r);
  }
  const first = Math.min(...rows.map((r) => r.start_time));
  const rel = `${partitionDir(market, "gaps", utcDate(first))}/${compactedFileName(first, tag, shard)}`;
  const path = `${root}/${rel}`;
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, encodeParquet(toArrowTable(buffer)));
  return rel;
}
