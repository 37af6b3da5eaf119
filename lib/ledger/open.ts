/**
 * Opening the ledger from the `kv_path` setting: a local SQLite file (its directory is created), a remote KV
 * URL (`http(s)://`, authenticated by `DENO_KV_ACCESS_TOKEN`), or `:memory:`.
 * @module
 */

import { dirname } from "node:path";
import { CHECKPOINT_KEY, metaKey } from "./keys.ts";
import { Ledger, type LedgerOptions } from "./ledger.ts";
import { scopedKv } from "./scoped_kv.ts";

/** Version of the key layout in keys.ts; bumped when a stored shape changes incompatibly. */
export const LAYOUT_VERSION = 1;

/** The ledger cannot be opened: missing access token, or a store written with another key layout. */
export class LedgerOpenError extends Error {
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`Cannot open ledger ${path}: ${message}`, options);
    this.name = "LedgerOpenError";
  }
}

/** Whether `path` names a remote KV service rather than a file. */
export function isRemoteKv(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/** Where {@linkcode openLedger} reads `DENO_KV_ACCESS_TOKEN` (the process environment by default). */
export interface EnvReader {
  get(name: string): string | undefined;
}

/**
 * Opens the ledger at `path` and checks its layout version (a new store is stamped with
 * {@linkcode LAYOUT_VERSION}). The environment is read only for a remote URL.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const ledger = await openLedger(`${dir}/ledger.sqlite`); // kv_path; by default data/_state/ledger.sqlite
 * try {
 *   console.log(await ledger.coverage("2024-01-02")); // []
 * } finally {
 *   ledger.close();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openLedger(
  path: string,
  env: EnvReader = Deno.env,
  options: OpenLedgerOptions = {},
): Promise<Ledger> {
  if (path === "") throw new LedgerOpenError(path, "kv_path is empty");
  if (isRemoteKv(path)) {
    if (!env.get("DENO_KV_ACCESS_TOKEN")) {
      throw new LedgerOpenError(path, "a remote KV URL needs DENO_KV_ACCESS_TOKEN set in the environment");
    }
  } else if (path !== ":memory:") {
    await Deno.mkdir(dirname(path), { recursive: true });
  }
  const kv = await Deno.openKv(path);
  try {
    const key = metaKey("layout");
    const stamped = await kv.atomic().check({ key, versionstamp: null }).set(key, LAYOUT_VERSION).commit();
    if (!stamped.ok) {
      const version = (await kv.get<number>(key)).value;
      if (version !== LAYOUT_VERSION) {
        throw new LedgerOpenError(path, `key layout version ${version}, this build reads ${LAYOUT_VERSION}`);
      }
    }
    const shard = options.shard === undefined ? await onlyShard(kv) : options.shard;
    return new Ledger(shard === null ? kv : scopedKv(kv, shard), options);
  } catch (err) {
    kv.close();
    throw err;
  }
}

/** Options of {@linkcode openLedger}. */
export interface OpenLedgerOptions extends LedgerOptions {
  /**
   * The shard whose keys to use (a store several shards share keeps each under `["shard", name]`); null: the
   * unsharded keys. Absent (tools reading a data directory): the store's only shard if it holds exactly one
   * and no unsharded checkpoint, else the unsharded keys.
   */
  shard?: string | null;
}

/** The one shard of a store that has shards and no unsharded checkpoint; null otherwise. */
async function onlyShard(kv: Deno.Kv): Promise<string | null> {
  if ((await kv.get(CHECKPOINT_KEY)).value !== null) return null;
  const firstShard = async (selector: Deno.KvListSelector): Promise<string | null> => {
    for await (const { key } of kv.list(selector, { limit: 1 })) {
      return typeof key[1] === "string" ? key[1] : null;
    }
    return null;
  };
  const name = await firstShard({ prefix: ["shard"] });
  if (name === null) return null;
  // Keys of a later shard sort after every ["shard", name, …] key.
  const next = await firstShard({ prefix: ["shard"], start: ["shard", `${name}\u0000`] });
  return next === null ? name : null;
}
