/**
 * Opening the ledger from the `kv_path` setting: a local SQLite file (its directory is created), a remote KV
 * URL (`http(s)://`, authenticated by `DENO_KV_ACCESS_TOKEN`), or `:memory:`.
 * @module
 */

import { dirname } from "node:path";
import { metaKey } from "./keys.ts";
import { Ledger, type LedgerOptions } from "./ledger.ts";

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
  options?: LedgerOptions,
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
  } catch (err) {
    kv.close();
    throw err;
  }
  return new Ledger(kv, options);
}
