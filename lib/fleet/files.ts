/**
 * What each shard publishes under `_fleet/` of the shared rclone remote, for `deno task report --fleet` and the
 * fleet's daily report: a heartbeat, `_fleet/<shard>.json`, rewritten every minute and at start and stop, and
 * the manifest of its recent files, `_fleet/<shard>.manifest.json`. The shapes, their names and their strict
 * parsing (a file another version or a person wrote must fail with a message, not half-load). Pure.
 * @module
 */

import { type Market, MARKETS } from "../binance/types.ts";
import { entryFields, type ManifestEntry } from "../storage/manifest.ts";
import { isTableName } from "../storage/tables.ts";

/** Version of the two file formats; a reader refuses another. */
export const FLEET_FORMAT = 1;

/** Directory of the fleet files under the remote root. */
export const FLEET_DIR = "_fleet";

/** The shard name of a collector without `shard:` in its config (as lib/config.ts's `{shard}`). */
export const UNSHARDED = "main";

/** Who a collector is in the fleet; fixed for the process's life. */
export interface FleetIdentity {
  /** Shard name, {@linkcode UNSHARDED} without shards. */
  shard: string;
  /** `shard.index`, `count` and `replicas`; null without shards. */
  index: number | null;
  count: number | null;
  replicas: number | null;
  host: string;
  /** The collector's version (lib/version.ts). */
  version: string;
  startedAtMs: number;
}

/** A shard's heartbeat: who it is and how it is doing, as of `atMs`. */
export interface Heartbeat extends FleetIdentity {
  format: typeof FLEET_FORMAT;
  /** When this heartbeat was written (the writer's clock). */
  atMs: number;
  /** Set by the last heartbeat of a clean stop. */
  stoppedAtMs: number | null;
  /** Start of the last flush; null before the first. */
  lastFlushMs: number | null;
  /** When the last data file upload was confirmed; null if none is known. */
  lastUploadMs: number | null;
  /** Symbols recorded now, per enabled market. */
  symbols: Partial<Record<Market, string[]>>;
  /** Order books in sync, of those kept. */
  books: { synced: number; total: number };
  /** Messages per second since the previous heartbeat (since the start for the first). */
  messagesPerSec: number;
}

/** A shard's recent finished files (the manifest entries of the last few UTC days). */
export interface ShardManifest {
  format: typeof FLEET_FORMAT;
  shard: string;
  atMs: number;
  /** The UTC days (`YYYY-MM-DD`) whose files are listed. */
  days: string[];
  files: ManifestEntry[];
}

/** A fleet file cannot be used: bad JSON, wrong format version, or a field of the wrong type. */
export class FleetFileError extends Error {
  constructor(readonly file: string, detail: string, options?: ErrorOptions) {
    super(`Cannot read ${file}: ${detail}`, options);
    this.name = "FleetFileError";
  }
}

/** `_fleet/<shard>.json`, relative to the remote root. */
export function heartbeatFile(shard: string): string {
  return `${FLEET_DIR}/${shard}.json`;
}

/** `_fleet/<shard>.manifest.json`, relative to the remote root. */
export function manifestFile(shard: string): string {
  return `${FLEET_DIR}/${shard}.manifest.json`;
}

/**
 * What a file name in `_fleet/` is: a shard's heartbeat or manifest, or null for anything else.
 *
 * @example
 * ```ts
 * fleetFileKind("s1.manifest.json"); // { shard: "s1", kind: "manifest" }
 * fleetFileKind("s1.json"); // { shard: "s1", kind: "heartbeat" }
 * ```
 */
export function fleetFileKind(name: string): { shard: string; kind: "heartbeat" | "manifest" } | null {
  const m = /^([a-z0-9][a-z0-9-]{0,31})(\.manifest)?\.json$/.exec(name);
  if (m === null) return null;
  return { shard: m[1]!, kind: m[2] === undefined ? "heartbeat" : "manifest" };
}

type Obj = Record<string, unknown>;

function object(file: string, text: string): Obj {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FleetFileError(file, "invalid JSON", { cause: err });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new FleetFileError(file, "expected a JSON object");
  }
  const o = doc as Obj;
  if (o.format !== FLEET_FORMAT) {
    throw new FleetFileError(file, `format ${JSON.stringify(o.format)}, this build reads ${FLEET_FORMAT}`);
  }
  return o;
}

/** Field readers that name the field in their error. */
function reader(file: string, o: Obj) {
  const fail = (key: string, what: string): never => {
    throw new FleetFileError(file, `'${key}' must be ${what}, got ${JSON.stringify(o[key]) ?? "nothing"}`);
  };
  const num = (key: string): number =>
    typeof o[key] === "number" && Number.isFinite(o[key]) ? o[key] : fail(key, "a number");
  return {
    num,
    numOrNull: (key: string): number | null => o[key] === null ? null : num(key),
    text: (key: string): string => typeof o[key] === "string" && o[key] !== "" ? o[key] : fail(key, "text"),
    fail,
  };
}

/** Parses a heartbeat; throws {@linkcode FleetFileError}. */
export function parseHeartbeat(text: string, file: string): Heartbeat {
  const o = object(file, text);
  const r = reader(file, o);
  const symbols: Partial<Record<Market, string[]>> = {};
  const rawSymbols = o.symbols;
  if (typeof rawSymbols !== "object" || rawSymbols === null || Array.isArray(rawSymbols)) {
    r.fail("symbols", "an object of market: [symbols]");
  }
  for (const [market, list] of Object.entries(rawSymbols as Obj)) {
    if (!(MARKETS as readonly string[]).includes(market)) r.fail("symbols", `keyed by ${MARKETS.join("/")}`);
    if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) {
      r.fail("symbols", "lists of symbol names");
    }
    symbols[market as Market] = list as string[];
  }
  const books = o.books as Obj | undefined;
  if (
    typeof books !== "object" || books === null || !Number.isSafeInteger(books.synced) ||
    !Number.isSafeInteger(books.total)
  ) {
    r.fail("books", "{synced, total}");
  }
  return {
    format: FLEET_FORMAT,
    shard: r.text("shard"),
    index: r.numOrNull("index"),
    count: r.numOrNull("count"),
    replicas: r.numOrNull("replicas"),
    host: r.text("host"),
    version: r.text("version"),
    startedAtMs: r.num("startedAtMs"),
    atMs: r.num("atMs"),
    stoppedAtMs: r.numOrNull("stoppedAtMs"),
    lastFlushMs: r.numOrNull("lastFlushMs"),
    lastUploadMs: r.numOrNull("lastUploadMs"),
    symbols,
    books: { synced: books!.synced as number, total: books!.total as number },
    messagesPerSec: r.num("messagesPerSec"),
  };
}

function isEntry(v: unknown): v is ManifestEntry {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Obj;
  return ["path", "sha256", "first_local_time", "last_local_time"].every((k) => typeof e[k] === "string") &&
    Number.isSafeInteger(e.rows) && Number.isSafeInteger(e.bytes) &&
    (MARKETS as readonly unknown[]).includes(e.market) && typeof e.table === "string" && isTableName(e.table);
}

/** Parses a shard manifest; throws {@linkcode FleetFileError}. */
export function parseShardManifest(text: string, file: string): ShardManifest {
  const o = object(file, text);
  const r = reader(file, o);
  if (!Array.isArray(o.days) || !o.days.every((d) => typeof d === "string")) {
    r.fail("days", "a list of dates");
  }
  if (!Array.isArray(o.files)) r.fail("files", "a list of manifest entries");
  const files = (o.files as unknown[]).map((e, i) => {
    if (!isEntry(e)) throw new FleetFileError(file, `malformed entry at files[${i}]`);
    return entryFields(e);
  });
  return {
    format: FLEET_FORMAT,
    shard: r.text("shard"),
    atMs: r.num("atMs"),
    days: o.days as string[],
    files,
  };
}
