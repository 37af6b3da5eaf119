/**
 * The simulator in its own process (`lib/sim/main.ts`), for benchmarks that must not share a CPU thread with it.
 * @module
 */
import { fileURLToPath } from "node:url";

const SIM_MAIN = fileURLToPath(new URL("../lib/sim/main.ts", import.meta.url));

/** One market's URLs as the simulator printed them. */
export interface SimUrls {
  rest: string;
  ws: string;
}

/** A running simulator process; stop it with a signal on `child`. */
export interface SimProcess {
  child: Deno.ChildProcess;
  spot: SimUrls;
  usdm: SimUrls;
}

/** Starts the simulator with `args` (its CLI flags) and resolves once it printed its URLs. */
export async function startSimProcess(args: string[]): Promise<SimProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-write", SIM_MAIN, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  // The symbols line comes after every market's URLs.
  while (!/symbols /.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`simulator exited: ${out}`);
    out += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const urls = (market: string): SimUrls => {
    const r = new RegExp(`${market}\\s+REST (\\S+)\\s+WS (\\S+)`).exec(out);
    if (!r) throw new Error(`cannot read simulator URLs from: ${out}`);
    return { rest: r[1]!, ws: r[2]! };
  };
  return { child, spot: urls("spot"), usdm: urls("usdm") };
}
