/**
 * The child side of {@link import("./merge_process.ts").MergeProcesses}: a process that runs one merge
 * (hour_merge.ts) and exits, so that all the memory a merge takes (a fresh parquet-wasm, its compiled code,
 * glibc's heap, V8's) goes back to the system with it instead of staying in the collector's process.
 *
 * Protocol: the {@link MergeRequest} as one line of JSON on stdin, which the parent then keeps open (its end, the
 * parent gone, stops the child with exit code 2); on success a {@link MergeChildReply} as JSON on stdout and
 * exit code 0; on failure the error's message on stderr and exit code 1 (nothing of the target is left: the
 * merge removes its temp files). Started as `deno run … merge_child.ts`, or as the compiled binary's
 * `--merge-child` (main.ts).
 * @module
 */

import { mergeParquetFiles, type MergeRequest, type MergeResult } from "./hour_merge.ts";
import { lowerThreadPriority } from "../thread_priority.ts";

/** What the child answers: the merge's result and the most memory it held (RSS sampled every 250 ms). */
export interface MergeChildReply {
  merged: MergeResult;
  peakRssBytes: number;
}

/** How often the child samples its RSS (Deno reads `/proc/self` only with `--allow-all`, so no `VmHWM`). */
const RSS_SAMPLE_MS = 250;

/** The first line of stdin, the request. */
async function readRequest(): Promise<MergeRequest> {
  const buf = new Uint8Array(64 << 10);
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const n = await Deno.stdin.read(buf);
    if (n === null) throw new Error("stdin ended before a merge request");
    text += decoder.decode(buf.subarray(0, n), { stream: true });
    const end = text.indexOf("\n");
    if (end >= 0) return JSON.parse(text.slice(0, end)) as MergeRequest;
  }
}

/** Reads the request from stdin, merges, answers on stdout, exits (see the module doc). */
export async function runMergeChild(): Promise<never> {
  // The merge runs on this thread (V8's helper threads keep the default priority).
  lowerThreadPriority();
  let peakRssBytes = Deno.memoryUsage().rss;
  const sampler = setInterval(
    () => peakRssBytes = Math.max(peakRssBytes, Deno.memoryUsage().rss),
    RSS_SAMPLE_MS,
  );
  try {
    const request = await readRequest();
    // The parent keeps stdin open until the answer: its end means the collector is gone (killed), and a merge
    // it would not list must not finish (its temp files are removed at the collector's next start).
    void (async () => {
      while (await Deno.stdin.read(new Uint8Array(1024)) !== null);
      Deno.exit(2);
    })().catch(() => Deno.exit(2));
    const merged = await mergeParquetFiles(request);
    clearInterval(sampler);
    const reply: MergeChildReply = { merged, peakRssBytes: Math.max(peakRssBytes, Deno.memoryUsage().rss) };
    await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(reply) + "\n"));
    Deno.exit(0);
  } catch (err) {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    Deno.exit(1);
  }
}

if (import.meta.main) await runMergeChild();
