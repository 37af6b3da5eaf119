/**
 * Every Deno KV key of the cloud sync is built here (beside, not inside, the ledger's keys.ts; the ledger's
 * reserved `["synced", relPath]` key is not used). All keys share the `"cloud"` prefix.
 *
 * | key | value | written by |
 * |---|---|---|
 * | `["cloud", "queued", relPath]` | `QueuedRecord` (`{ atUs }`): an upload job is in the KV queue | the enqueuer, atomically with the job |
 * | `["cloud", "synced", relPath]` | `SyncedRecord`: uploaded and verified, with what was uploaded and where | the queue handler |
 * | `["cloud", "failed", relPath]` | the `UploadMessage` whose retries ran out (KV's `keysIfUndelivered`) | Deno KV |
 *
 * `relPath` is the manifest path (relative to `data_dir`, `/`-separated, ~100 bytes), far below KV's 2 KiB key
 * limit; values are a few hundred bytes. Synced records are kept after local cleanup: they are the record of
 * what lives on the remote.
 * @module
 */

/** Key of the marker that an upload job for `relPath` is queued (guards duplicate jobs). */
export function queuedKey(relPath: string): Deno.KvKey {
  return ["cloud", "queued", relPath];
}

/** Key of the record that `relPath` was uploaded and verified. */
export function syncedKey(relPath: string): Deno.KvKey {
  return ["cloud", "synced", relPath];
}

/** Key KV writes when the upload job of `relPath` exhausted its retries. */
export function failedKey(relPath: string): Deno.KvKey {
  return ["cloud", "failed", relPath];
}

/**
 * Selector of the synced records of one partition directory (`market/table/date=…`): paths start with
 * `{dir}/`, and `0` is the character after `/`, so the range ends right after them.
 */
export function syncedDirRange(dir: string): Deno.KvListSelector {
  return { start: ["cloud", "synced", `${dir}/`], end: ["cloud", "synced", `${dir}0`] };
}
