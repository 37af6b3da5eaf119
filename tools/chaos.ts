/**
 * `deno task chaos [--minutes N] [--seconds S] [--seed K] [--keep]`: runs chaos scenarios (tools/chaos/) one
 * after another for N minutes and prints, per scenario, the collector runs, kills and stops, the rows compared
 * with the simulator's ground truth, the rows missing inside gap rows, missing outside gap rows (must be 0),
 * duplicates (0), wrong values (0), `verify` problems (0) and the reconnect times. Exits 1 if any scenario broke
 * the promise.
 * @module
 */
import { parseArgs } from "node:util";
import { bad, type ChaosResult, runScenario } from "./chaos/runner.ts";
import { makeScenario } from "./chaos/scenario.ts";

/** Printed by `--help` and after a bad argument. */
export const USAGE = `Usage: deno task chaos [--minutes N] [--seconds S] [--seed K] [--keep]

Runs random mixes of the simulator's faults while the collector (main.ts) is stopped or killed at random
moments and restarted, then compares everything written with the simulator's ground truth.

  --minutes N     run scenarios for N minutes in all (default 5)
  --seconds S     length of one scenario (default 60)
  --seed K        seed of the first scenario; the next ones count up (default 1)
  --keep          keep every scenario's data directory (a failing one is always kept)
  -h, --help      print this help and exit`;

/** Sums the tallies of a result. */
export function totals(r: ChaosResult) {
  const sum = (f: (t: ChaosResult["tallies"][number]) => number) => r.tallies.reduce((n, t) => n + f(t), 0);
  return {
    compared: sum((t) => t.compared),
    inside: sum((t) => t.missingInsideGaps),
    outside: sum((t) => t.missingOutsideGaps),
    duplicates: sum((t) => t.duplicates),
    wrong: sum((t) => t.wrong),
  };
}

/** One line of the table for `r`. */
export function row(r: ChaosResult): string {
  const t = totals(r);
  const rc = [...r.reconnectMs].sort((a, b) => a - b);
  const reconnect = rc.length === 0 ? "-" : `${rc[Math.floor(rc.length / 2)]} / ${rc.at(-1)} ms`;
  return `| ${r.seed} | ${r.runs} | ${r.kills} | ${r.terms} | ${r.faults} | ${t.compared} | ${t.inside} | ${t.outside} | ${t.duplicates} | ${t.wrong} | ${r.verifyProblems.length} | ${reconnect} |`;
}

export const HEADER = "| seed | runs | kills | SIGTERMs | faults | rows compared | missing inside gaps | " +
  "missing outside gaps | duplicates | wrong | verify problems | reconnect p50 / max |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|---|";

async function main(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        minutes: { type: "string", default: "5" },
        seconds: { type: "string", default: "60" },
        seed: { type: "string", default: "1" },
        keep: { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    console.error(`chaos: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const minutes = Number(values.minutes);
  const seconds = Number(values.seconds);
  let seed = Number(values.seed);
  if (!(minutes > 0) || !(seconds >= 20) || !Number.isSafeInteger(seed)) {
    console.error(`chaos: need --minutes > 0, --seconds >= 20 and an integer --seed\n\n${USAGE}`);
    return 2;
  }
  const end = Date.now() + minutes * 60_000;
  const results: ChaosResult[] = [];
  console.log(HEADER);
  while (Date.now() + seconds * 1000 <= end + 5000 || results.length === 0) {
    const r = await runScenario(makeScenario(seed++, seconds * 1000), {
      keep: values.keep,
      progress: (line) => console.error(line),
    });
    results.push(r);
    console.log(row(r));
    for (const t of r.tallies) for (const e of t.examples) console.error(`  ${t.market} ${t.what}: ${e}`);
    for (const e of [...r.errors, ...r.verifyProblems]) console.error(`  ${e}`);
  }
  const all = results.map(totals).reduce((a, b) => ({
    compared: a.compared + b.compared,
    inside: a.inside + b.inside,
    outside: a.outside + b.outside,
    duplicates: a.duplicates + b.duplicates,
    wrong: a.wrong + b.wrong,
  }));
  const sum = (f: (r: ChaosResult) => number) => results.reduce((n, r) => n + f(r), 0);
  console.log(
    `| all ${results.length} | ${sum((r) => r.runs)} | ${sum((r) => r.kills)} | ${sum((r) => r.terms)} | ${
      sum((r) => r.faults)
    } | ${all.compared} | ${all.inside} | ${all.outside} | ${all.duplicates} | ${all.wrong} | ${
      sum((r) => r.verifyProblems.length)
    } | ${reconnectSummary(results.flatMap((r) => r.reconnectMs))} |`,
  );
  return results.some(bad) ? 1 : 0;
}

function reconnectSummary(ms: number[]): string {
  if (ms.length === 0) return "-";
  const s = [...ms].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)]} / ${s.at(-1)} ms (${s.length})`;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
