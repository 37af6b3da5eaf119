/**
 * `deno task bench:storage`: the table store alone at whole-market load (bench/storage_feed.ts: 2,000 symbols,
 * every table), each version in a process of its own: this tree's, and with `--baseline REV` the store of
 * that git revision, side by side in one run (bench/storage_phases.ts):
 * - paced: `--rate` rows/s for `--seconds`, a flush every `--flush` s as the collector does (take, then write):
 *   event-loop lag (a 1 ms timer's delay, p50/p99/max, overall and during flushes), main-thread ms per flush
 *   (the synchronous `take()` plus the timer's delays of 3 ms or more while the flush ran: the time the loop
 *   was held up, the row feed's own work included), files per flush, RSS;
 * - burst: `--rows` rows as fast as the store takes them, a flush every `--flush-rows`: rows/s, process CPU
 *   seconds per million rows (main thread and worker), peak RSS; then the hourly compaction of those files
 *   (as the cron job runs it): time, CPU, event-loop lag while it runs, files before and after.
 * A "feed only" run first (the same rows into a sink that drops them) shows the event-loop lag this machine
 * has without any store: the floor the stores' figures stand on.
 * @module
 */
import { parseArgs } from "node:util";
import { type PhaseFlags, type Result, round, runPhases, type Version } from "./storage_phases.ts";

const USAGE = `Usage: deno task bench:storage [flags]

The table store alone at whole-market load (2,000 symbols, every table): a paced phase (event-loop lag, main-
thread ms per flush, files per flush, RSS), a burst phase (rows/s, CPU per million rows, peak RSS) and the
compaction of the burst's files; after a feed-only run that shows the machine's own event-loop lag.

  --baseline REV     also run the store of git revision REV (e.g. the commit before 0.4), in its own process
  --rate R           paced rows per second (default 10000: the whole market)
  --seconds S        paced phase length (default 180)
  --flush F          seconds between flushes in the paced phase (default 60, the collector's default)
  --rows N           burst phase rows (default 3000000; 0 skips the burst and the compaction)
  --flush-rows N     rows between flushes in the burst phase (default 600000: a minute at 10k rows/s)
  -h, --help         print this help and exit`;

/** This tree (the directory holding its `lib/`). */
const HERE = new URL("..", import.meta.url).pathname;

async function runVersion(v: Pick<Version, "name" | "root">, args: string[]): Promise<Result> {
  const which = v.root === null ? ["--feed-only"] : v.root !== HERE ? ["--lib", v.root] : [];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname, "--child", v.name, ...which, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`the ${v.name} run failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!) as Result;
}

/**
 * Whether the baseline `lib/` in `root` has 0.3's store API (no `storage/parquet_jobs.ts`). A 0.4 baseline
 * given 0.3's constructor ran its Parquet work on the main thread, so its figures looked like another design.
 */
async function isApi03(root: string | undefined): Promise<boolean> {
  if (root === undefined) return false;
  try {
    await Deno.stat(`${root}/lib/storage/parquet_jobs.ts`);
    return false;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return true;
    throw err;
  }
}

/** The `lib/` of git revision `rev`, extracted into a temp dir. */
async function baselineLib(rev: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bench-baseline-" });
  const git = new Deno.Command("git", { args: ["archive", rev, "lib"], stdout: "piped" }).spawn();
  const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  await git.stdout.pipeTo(tar.stdin);
  if (!(await git.status).success || !(await tar.status).success) {
    throw new Error(`cannot extract lib/ of ${rev}`);
  }
  return dir;
}

function report(results: Result[], flags: PhaseFlags): string {
  const lines = [
    `storage bench: paced ${flags.rate} rows/s for ${flags.seconds} s, a flush every ${flags.flush} s; burst ${flags.rows} rows, a flush every ${flags.flushRows}`,
  ];
  for (const r of results) {
    const f = r.paced.flushes.filter((x) => x.rows > 0);
    const avg = (k: "takeMs" | "blockedMs" | "wallMs" | "files") =>
      round(f.reduce((a, x) => a + x[k], 0) / Math.max(1, f.length));
    const { lag, lagInFlush, rssMiB } = r.paced;
    lines.push(`${r.version}:`);
    if (f.length > 0) {
      lines.push(
        `  paced: ${r.paced.rows} rows; per flush: ${avg("files")} files, take() ${
          avg("takeMs")
        } ms, main thread held up ${avg("blockedMs")} ms (longest ${
          Math.max(...f.map((x) => x.maxStallMs))
        } ms), wall ${avg("wallMs")} ms`,
      );
    }
    lines.push(
      `  event-loop lag ms: all p50 ${lag.p50} p99 ${lag.p99} max ${lag.max}; during flushes p50 ${lagInFlush.p50} p99 ${lagInFlush.p99} max ${lagInFlush.max}`,
      `  RSS MiB: peak ${rssMiB.peak}, end ${rssMiB.end}; every 10 s: ${rssMiB.samples.join(" ")}`,
    );
    const b = r.burst;
    if (b) {
      lines.push(
        `  burst: ${b.rowsPerSec} rows/s, ${b.cpuSecPerMillion} CPU s per million rows, peak RSS ${b.peakRssMiB} MiB, ${b.files} files`,
      );
    }
    const c = r.compaction;
    if (c) {
      lines.push(
        `  compaction: ${c.filesBefore} -> ${c.filesAfter} files in ${c.seconds} s (${c.cpuSec} CPU s), peak RSS ${c.peakRssMiB} MiB, event-loop lag p99 ${c.lag.p99} max ${c.lag.max} ms`,
      );
    }
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  let v;
  try {
    v = parseArgs({
      args: Deno.args,
      options: {
        baseline: { type: "string" },
        rate: { type: "string", default: "10000" },
        seconds: { type: "string", default: "180" },
        flush: { type: "string", default: "60" },
        rows: { type: "string", default: "3000000" },
        "flush-rows": { type: "string", default: "600000" },
        child: { type: "string" },
        lib: { type: "string" },
        "feed-only": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    console.error(`bench:storage: ${(err as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const flags: PhaseFlags = {
    rate: Number(v.rate),
    seconds: Number(v.seconds),
    flush: Number(v.flush),
    rows: Number(v.rows),
    flushRows: Number(v["flush-rows"]),
  };
  if (v.child) {
    const root = v["feed-only"] ? null : v.lib ?? HERE;
    console.log(
      JSON.stringify(await runPhases({ name: v.child, root, api03: await isApi03(v.lib) }, flags)),
    );
    return;
  }
  const pass = ["--rate", v.rate, "--seconds", v.seconds, "--flush", v.flush, "--rows", v.rows];
  pass.push("--flush-rows", v["flush-rows"]);
  const results = [await runVersion({ name: "feed only (no store)", root: null }, pass)];
  if (v.baseline) {
    const lib = await baselineLib(v.baseline);
    try {
      results.push(await runVersion({ name: `baseline ${v.baseline}`, root: lib }, pass));
    } finally {
      await Deno.remove(lib, { recursive: true });
    }
  }
  results.push(await runVersion({ name: "this tree", root: HERE }, pass));
  console.log(report(results, flags));
  console.log(JSON.stringify(results));
}

await main();
