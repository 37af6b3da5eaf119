/**
 * The manifest after months of recording: how long the collector's thread is blocked when it saves
 * `checksums.json` (every 5 minutes, after each compacted group, at stop) and lists the entries (compaction,
 * cloud sync), and the heap it holds, with as many entries as a whole market leaves after `--days` (20 files an
 * hour once compacted): every entry held (a collector with a remote), and settled days sealed (without one).
 * Not a test: the figures go into the README ("Benchmark").
 *
 * `deno run -A --v8-flags=--expose-gc bench/manifest.ts [--days 30,180,365]` (the heap is measured after a full GC)
 */
import { HOUR_US } from "../lib/ledger/intervals.ts";
import { LoopLagMonitor, nextTurn } from "../lib/loop_lag.ts";
import { Manifest, type ManifestEntry } from "../lib/storage/manifest.ts";
import { compactedDay } from "./compacted_day.ts";
import { sealSettledDays } from "../lib/storage/sealed_dirs.ts";

const i = Deno.args.indexOf("--days");
const DAYS = (i < 0 ? "30,180,365" : Deno.args[i + 1]!).split(",").map(Number);

/** A compacted day of a whole market: one file per (market, table, hour). */
function dayOfEntries(day: number): ManifestEntry[] {
  return compactedDay(Date.UTC(2026, 0, 1) * 1000 + day * 24 * HOUR_US);
}

/** Runs `job` while a 1 ms timer measures how late it fires: the longest block of the thread, and the total. */
async function blocked(job: () => Promise<unknown> | unknown): Promise<{ maxMs: number; totalMs: number }> {
  const lag = new LoopLagMonitor(1);
  lag.start();
  await nextTurn();
  const t0 = performance.now();
  await job();
  const totalMs = performance.now() - t0;
  await nextTurn(); // the timer's sample after the job's last synchronous step
  lag.stop();
  return { maxMs: lag.total.stats().max, totalMs };
}

/** One part file of the current day, as a flush adds. */
function partEntry(day: number, n: number): ManifestEntry {
  const e = dayOfEntries(day)[0]!;
  return { ...e, path: e.path.replace("/hour-", `/part-${n}-`) };
}

console.log(
  "| manifest | days | entries held / sealed | file | first save: longest block / total | next save (one file added) | entries() | heap used |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const sealing of [false, true]) {
  const dir = await Deno.makeTempDir({ prefix: "bench-manifest-" });
  try {
    let days = 0;
    const clockMs = () => Date.UTC(2026, 0, 1) + days * 86_400_000;
    // The collector without a remote seals days settled 10 days ago (lib/app.ts).
    const manifest = Manifest.of(dir, [], sealing ? { seal: sealSettledDays(10, clockMs) } : {});
    for (const target of DAYS) {
      for (; days < target; days++) for (const e of dayOfEntries(days)) manifest.add(e);
      // The bench's own garbage first, so that a pause measured is the save's.
      (globalThis as { gc?: () => void }).gc?.();
      const save = await blocked(() => manifest.save());
      manifest.add(partEntry(days, 1));
      const next = await blocked(() => manifest.save());
      const list = await blocked(() => manifest.entries());
      const size = (await Deno.stat(`${dir}/_manifest/checksums.json`)).size;
      (globalThis as { gc?: () => void }).gc?.();
      const heap = Deno.memoryUsage().heapUsed;
      console.log(
        `| ${sealing ? "sealing" : "all held"} | ${days} | ${manifest.size.toLocaleString("en")} / ` +
          `${manifest.sealed.toLocaleString("en")} | ${(size / 2 ** 20).toFixed(1)} MiB | ` +
          `${save.maxMs.toFixed(1)} / ${save.totalMs.toFixed(0)} ms | ${next.maxMs.toFixed(1)} / ` +
          `${next.totalMs.toFixed(0)} ms | ${list.totalMs.toFixed(1)} ms | ${
            (heap / 2 ** 20).toFixed(0)
          } MiB |`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
