/**
 * `deno task sim`: runs the Binance exchange simulator on 127.0.0.1 until Ctrl-C, printing each market's REST
 * and WebSocket base URLs. Flags: see {@link USAGE} (`--help`).
 */
import { MARKETS } from "../binance/markets.ts";
import { CliUsageError, parseSimArgs, USAGE } from "./cli.ts";
import { ExchangeOptionError } from "./exchange.ts";
import { startSimulator } from "./server.ts";

async function main(args: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseSimArgs(args);
  } catch (e) {
    if (!(e instanceof CliUsageError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.help) {
    console.log(USAGE);
    return 0;
  }
  let sim;
  try {
    sim = await startSimulator(command.options);
  } catch (e) {
    if (!(e instanceof ExchangeOptionError)) throw e;
    console.error(e.message);
    return 2;
  }
  for (const market of MARKETS) {
    console.log(`${market.padEnd(5)} REST ${sim[market].restUrl}  WS ${sim[market].wsUrl}`);
  }
  const symbols = command.options.symbols === "all"
    ? `all: ${MARKETS.map((m) => `${sim.exchange.listed(m).length} ${m}`).join(", ")}`
    : sim.exchange.symbols.join(",");
  console.log(`symbols ${symbols}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => Deno.addSignalListener("SIGINT", resolve));
  await sim.close();
  console.log(`stopped after ${sim.stats.steps} steps, ${sim.stats.framesSent} frames sent`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
