/**
 * Whole-market simulator benchmark (not a test): starts `deno task sim --symbols all` as its own process (the
 * task's exact command line from deno.json), subscribes one client to every default stream of every trading
 * symbol — spot depth@100ms, aggTrade, kline_1m, kline_1s, bookTicker; USD-M depth@100ms, bookTicker on
 * `/public` and aggTrade, kline_1m, markPrice@1s, forceOrder on `/market`, 1024 streams per connection — and
 * reports the simulator's CPU and RSS (from /proc) and the messages the client received, per stream kind.
 *
 *   deno run -A bench/sim_market.ts [--seconds 60] [--warmup 5] [--truth] [--window MS] [--max-heap-mb N]
 *
 * `--truth` runs the simulator in-process with `truth: true` (this file, in a child process) instead of the
 * task, to see the ground truth's memory, and reports its live V8 heap too; `--window` sets its
 * `truthWindowMs` (default: the simulator's). `--max-heap-mb` caps the simulator's V8 old space, as a small VM
 * would (V8 otherwise sizes its heap to the machine's memory, so RSS says more about its GC than about what is
 * kept).
 */
import { parseArgs } from "node:util";
import { type Simulator, startSimulator } from "../lib/sim/server.ts";
import { denoTaskArgs } from "../tests/_deno_tasks.ts";
import { type ProcSample, procSample } from "./proc.ts";

const flags = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    warmup: { type: "string", default: "5" },
    truth: { type: "boolean", default: false },
    window: { type: "string" },
    "max-heap-mb": { type: "string" },
    "child-truth": { type: "boolean", default: false },
  },
}).values;

const SPOT_STREAMS = ["depth@100ms", "aggTrade", "kline_1m", "kline_1s", "bookTicker"];
const USDM_STREAMS = {
  public: ["depth@100ms", "bookTicker"],
  market: ["aggTrade", "kline_1m", "markPrice@1s", "forceOrder"],
};
const PER_CONNECTION = 1024;

/** Child mode: the simulator in-process with ground truth in memory, printing its URLs like the task does. */
async function childTruth(): Promise<void> {
  const window = flags.window === undefined ? undefined : Number(flags.window);
  const sim: Simulator = await startSimulator({ symbols: "all", truth: true, truthWindowMs: window });
  console.log(`spot  REST ${sim.spot.restUrl}  WS ${sim.spot.wsUrl}`);
  console.log(`usdm  REST ${sim.usdm.restUrl}  WS ${sim.usdm.wsUrl}`);
  const report = setInterval(() => {
    const m = Deno.memoryUsage();
    const mib = (n: number) => Math.round(n / 1048576);
    console.log(`heap ${mib(m.heapUsed)} ${mib(m.heapTotal)} ${mib(m.external)}`);
  }, 1000);
  await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", resolve));
  clearInterval(report);
  await sim.close();
}

/** The `deno task sim` command line from deno.json, with `--symbols all`. */
function taskArgs(): string[] {
  const args = denoTaskArgs("sim");
  const root = new URL("..", import.meta.url).pathname;
  return [...args.map((a) => (a.endsWith(".ts") ? root + a : a)), "--symbols", "all"];
}

/** The child's latest V8 heap (used, total) and external (typed array) memory in MiB, in `--truth` mode. */
const heap = { used: NaN, total: NaN, external: NaN };

async function startSim(): Promise<{ child: Deno.ChildProcess; urls: Record<string, string> }> {
  let args = flags.truth
    ? [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--child-truth",
      ...(flags.window ? ["--window", flags.window] : []),
    ]
    : taskArgs();
  if (flags["max-heap-mb"] !== undefined) {
    args = [args[0]!, `--v8-flags=--max-old-space-size=${flags["max-heap-mb"]}`, ...args.slice(1)];
  }
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/usdm\s+REST \S+\s+WS \S+\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`simulator exited: ${out}`);
    out += value;
  }
  void (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      for (const m of r.value.matchAll(/^heap (\d+) (\d+) (\d+)$/gm)) {
        [heap.used, heap.total, heap.external] = [Number(m[1]), Number(m[2]), Number(m[3])];
      }
    }
  })();
  const spot = /spot\s+REST (\S+)\s+WS (\S+)/.exec(out)!;
  const usdm = /usdm\s+REST (\S+)\s+WS (\S+)/.exec(out)!;
  return { child, urls: { spotRest: spot[1]!, spotWs: spot[2]!, usdmRest: usdm[1]!, usdmWs: usdm[2]! } };
}

/** Trading symbols of a market, lower case, from exchangeInfo. */
async function tradingSymbols(restUrl: string, path: string): Promise<string[]> {
  const info = await (await fetch(`${restUrl}${path}`)).json();
  return (info.symbols as { symbol: string; status: string }[])
    .filter((s) => s.status === "TRADING").map((s) => s.symbol.toLowerCase());
}

const counts = new Map<string, number>();
let received = 0;

/** Opens one combined connection and subscribes it to `streams` with one SUBSCRIBE message. */
function connect(url: string, streams: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.onopen = () => {
      ws.send(JSON.stringify({ method: "SUBSCRIBE", params: streams, id: 1 }));
      resolve(ws);
    };
    ws.onerror = () => reject(new Error(`Cannot connect to ${url}`));
    ws.onmessage = (e) => {
      received++;
      const text = e.data as string;
      const at = text.indexOf("@");
      const kind = at < 0 ? "reply" : text.slice(at + 1, text.indexOf('"', at));
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    };
  });
}

function chunks(all: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < all.length; i += PER_CONNECTION) out.push(all.slice(i, i + PER_CONNECTION));
  return out;
}

/** A sample of the simulator, which must still run. */
async function sample(pid: number): Promise<ProcSample> {
  const s = await procSample(pid);
  if (!s) throw new Error(`the simulator (pid ${pid}) exited`);
  return s;
}

async function bench(): Promise<void> {
  const seconds = Number(flags.seconds);
  const warmup = Number(flags.warmup);
  const t0 = performance.now();
  const { child, urls } = await startSim();
  console.log(`simulator up in ${((performance.now() - t0) / 1000).toFixed(1)} s (pid ${child.pid})`);
  const spot = await tradingSymbols(urls.spotRest!, "/api/v3/exchangeInfo");
  const usdm = await tradingSymbols(urls.usdmRest!, "/fapi/v1/exchangeInfo");
  const plan: [string, string[]][] = [
    ...chunks(spot.flatMap((s) => SPOT_STREAMS.map((k) => `${s}@${k}`))).map((c) =>
      [`${urls.spotWs}/stream`, c] as [string, string[]]
    ),
    ...(["public", "market"] as const).flatMap((route) =>
      chunks(usdm.flatMap((s) => USDM_STREAMS[route].map((k) => `${s}@${k}`))).map((c) =>
        [`${urls.usdmWs}/${route}/stream`, c] as [string, string[]]
      )
    ),
  ];
  const sockets = await Promise.all(plan.map(([url, streams]) => connect(url, streams)));
  const streamCount = plan.reduce((n, [, s]) => n + s.length, 0);
  console.log(
    `subscribed ${streamCount} streams of ${spot.length} spot + ${usdm.length} usdm trading symbols ` +
      `on ${sockets.length} connections; warming up ${warmup} s`,
  );
  await new Promise((r) => setTimeout(r, warmup * 1000));
  counts.clear();
  received = 0;
  const first = await sample(child.pid);
  let peakRss = first.rssMb;
  for (let s = 1; s <= seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    const p = await sample(child.pid);
    peakRss = Math.max(peakRss, p.rssMb);
    if (s % 10 === 0 || s === seconds) {
      console.log(
        `  ${String(s).padStart(4)} s  ${(received / s).toFixed(0).padStart(6)} msg/s  ` +
          `cpu ${((100 * (p.cpu - first.cpu)) / s).toFixed(1)}%  rss ${p.rssMb.toFixed(0)} MiB` +
          (Number.isNaN(heap.used)
            ? ""
            : `  heap ${heap.used}/${heap.total} + external ${heap.external} MiB`),
      );
    }
  }
  const last = await sample(child.pid);
  const cpu = last.cpu - first.cpu;
  console.log(
    `\nsimulator over ${seconds} s: cpu ${((100 * cpu) / seconds).toFixed(1)}% of one core, ` +
      `${((cpu * 1e6) / Math.max(1, received)).toFixed(1)} µs per message; rss ${first.rssMb.toFixed(0)} → ` +
      `${last.rssMb.toFixed(0)} MiB (peak ${peakRss.toFixed(0)})`,
  );
  console.log(`client received ${(received / seconds).toFixed(0)} msg/s:`);
  for (const [kind, n] of [...counts].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${kind.padEnd(14)} ${(n / seconds).toFixed(1).padStart(8)} /s`);
  }
  for (const ws of sockets) ws.close();
  child.kill("SIGTERM");
  await child.status;
}

if (flags["child-truth"]) await childTruth();
else await bench();
