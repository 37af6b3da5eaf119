/**
 * Composition root. `deno task start [config.yaml]` records Binance; `deno task demo [--duration SECONDS]`
 * records the built-in simulator instead, then prints what it wrote and how to query it.
 */
import { startApp } from "./lib/app.ts";
import { type Config, loadConfigOrExit } from "./lib/config.ts";
import { consoleLogger } from "./lib/log.ts";
import { startSimulator } from "./lib/sim/server.ts";
import { describeRun } from "./lib/pipeline/run_summary.ts";

interface Args {
  configPath: string;
  demo: boolean;
  durationSec: number | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { configPath: "config.yaml", demo: false, durationSec: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--demo") args.demo = true;
    else if (a === "--duration") {
      const v = Number(argv[++i]);
      if (!(v > 0)) usage(`--duration needs a positive number of seconds, got ${argv[i]}`);
      args.durationSec = v;
    } else if (a.startsWith("--")) usage(`unknown option ${a}`);
    else args.configPath = a;
  }
  return args;
}

function usage(problem: string): never {
  console.error(`${problem}\nusage: main.ts [config.yaml] [--demo] [--duration SECONDS]`);
  Deno.exit(2);
}

/** The demo records the simulator with the user's symbols and streams, into its own data directory. */
function demoConfig(
  config: Config,
  urls: Record<"spot" | "usdm", { restUrl: string; wsUrl: string }>,
): Config {
  return {
    ...config,
    dataDir: `${config.dataDir}/demo`,
    flushIntervalSec: Math.min(config.flushIntervalSec, 10),
    markets: {
      spot: { ...config.markets.spot, ...urls.spot },
      usdm: { ...config.markets.usdm, ...urls.usdm },
    },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  let config = await loadConfigOrExit(args.configPath);
  const log = consoleLogger();
  let sim: Awaited<ReturnType<typeof startSimulator>> | null = null;
  if (args.demo) {
    const symbols = [...new Set([...config.markets.spot.symbols, ...config.markets.usdm.symbols])];
    sim = await startSimulator({ symbols });
    config = demoConfig(config, { spot: sim.spot, usdm: sim.usdm });
    log("info", "demo: recording the built-in simulator", {
      spot: sim.spot.restUrl,
      dataDir: config.dataDir,
    });
  }
  const startedUs = Date.now() * 1000;
  const app = await startApp(config, log, { env: Deno.env });

  let stopping: Promise<void> | null = null;
  const stop = (why: string) => {
    stopping ??= (async () => {
      log("info", "stopping", { why });
      await app.stop();
      await sim?.close();
      if (args.demo) console.log(await describeRun(config.dataDir, startedUs));
      Deno.exit(0);
    })();
    return stopping;
  };
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  if (args.durationSec !== null) setTimeout(() => void stop("duration reached"), args.durationSec * 1000);
}

if (import.meta.main) await main();
