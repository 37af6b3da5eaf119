/**
 * Deno KV `list` for the collector's thread: a batch of entries is read and decoded in one turn of the event
 * loop (1,000 coverage entries stalled it 13–38 ms, 250 at most 21), and the feed gets a turn every few
 * batches (see {@link paced}: without it, reading a day of a whole market stalled the feed 60–180 ms).
 * @module
 */

import { paced } from "../loop_lag.ts";

/** Entries read and decoded in one turn. */
export const LIST_BATCH = 250;
/** The feed gets a turn once the entries took this long. */
const SLICE_MS = 10;

/** The entries `selector` selects, in key order, a turn apart every {@link SLICE_MS} of work or so. */
export function listPaced<T>(kv: Deno.Kv, selector: Deno.KvListSelector): AsyncGenerator<Deno.KvEntry<T>> {
  return paced(kv.list<T>(selector, { batchSize: LIST_BATCH }), SLICE_MS);
}

/** The values of the entries `selector` selects, in key order (see {@linkcode listPaced}). */
export async function listValues<T>(kv: Deno.Kv, selector: Deno.KvListSelector): Promise<T[]> {
  const out: T[] = [];
  for await (const { value } of listPaced<T>(kv, selector)) out.push(value);
  return out;
}
