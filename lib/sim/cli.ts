/**
 * Command-line flags of `deno task sim`, parsed into {@link SimulatorOptions} (pure: arguments in, options or
 * a usage error out).
 */
import { parseArgs } from "node:util";
import { type Market, MARKETS } from "../binance/markets.ts";
import type { Faults, ListingChange } from "./faults.ts";
import type { SimulatorOptions } from "./server.ts";

/** Usage text printed by `--help` and on a bad flag. */
export const USAGE = `Usage: deno task sim [flags]

  --port N                 listen port (default 0: any free port)
  --symbols A,B|all        symbols (default BTCUSDT,ETHUSDT,BTCUSD_PERP): COIN-M names (BTCUSD_PERP,
                           BTCUSD_YYMMDD) on COIN-M, the others on spot and USD-M; all = a whole
                           generated market: ~1500 spot, ~500 USD-M and ~40 COIN-M symbols, a few busy,
                           a long quiet tail
  --universe S,U[,C]       with --symbols all: spot, USD-M and COIN-M symbol counts (default 1500,500,40)
  --seed N                 PRNG seed (default 1)
  --rate N                 book changes per second per symbol and market (default 300); with
                           --symbols all, those of the busiest symbol (default 400)
  --tick-ms N              engine step in ms; 0 = back to back (default 10)
  --truth FILE             write ground truth as JSON lines to FILE
  --weight-spot N          spot REQUEST_WEIGHT per minute (default 6000)
  --weight-usdm N          USD-M REQUEST_WEIGHT per minute (default 2400)
  --weight-coinm N         COIN-M REQUEST_WEIGHT per minute (default 6000)
Faults (all off by default; probabilities are 0..1):
  --drop-diffs P           drop each depth diff with probability P
  --duplicate-diffs P      send each depth diff twice with probability P
  --delay-diffs P          delay each depth diff by 250 ms with probability P
  --disconnect-every MS    close every connection every MS
  --rest-error P           answer REST with 503 with probability P
  --rest-429 P             answer REST with 429 with probability P
  --rest-hang P            never answer a REST request (30 s) with probability P
  --stale-snapshots P      serve a 2–4 s old REST depth snapshot with probability P
  --garbage P              send a junk frame to every connection each step with probability P
  --unknown-fields         add unknown fields to every data frame
  --lifetime MS            connection lifetime (default 24 h)
  --burst-every MS         every MS, one step makes 2000 extra book changes and 50 trades
  --server-shutdown-every MS  send spot serverShutdown every MS and close 1 s later
Listing changes (repeatable; @MS = that long after start, default at once; MARKET is spot, usdm, coinm):
  --list MARKET:SYMBOL[@MS]    list a new symbol (TRADING, producing data)
  --delist MARKET:SYMBOL[@MS]  set BREAK and stop its streams
  --halt MARKET:SYMBOL[@MS]    set HALT and stop its streams
  --resume MARKET:SYMBOL[@MS]  set TRADING again
  --deliver coinm:SYMBOL[@MS]  a COIN-M delivery contract delivers then (DELIVERING, its streams stop)
`;

/** A bad command line. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

/** Parsed command line: simulator options, or a request for help. */
export type CliCommand = { help: true } | { help: false; options: SimulatorOptions };

/**
 * Parses `deno task sim` flags.
 *
 * @example
 * ```ts
 * parseSimArgs(["--symbols", "BTCUSDT", "--drop-diffs", "0.01"]);
 * ```
 */
export function parseSimArgs(args: readonly string[]): CliCommand {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        port: { type: "string" },
        symbols: { type: "string" },
        seed: { type: "string" },
        rate: { type: "string" },
        "tick-ms": { type: "string" },
        truth: { type: "string" },
        "weight-spot": { type: "string" },
        "weight-usdm": { type: "string" },
        "weight-coinm": { type: "string" },
        "drop-diffs": { type: "string" },
        "duplicate-diffs": { type: "string" },
        "delay-diffs": { type: "string" },
        "disconnect-every": { type: "string" },
        "rest-error": { type: "string" },
        "rest-429": { type: "string" },
        "rest-hang": { type: "string" },
        "stale-snapshots": { type: "string" },
        garbage: { type: "string" },
        "unknown-fields": { type: "boolean" },
        lifetime: { type: "string" },
        "burst-every": { type: "string" },
        "server-shutdown-every": { type: "string" },
        universe: { type: "string" },
        list: { type: "string", multiple: true },
        delist: { type: "string", multiple: true },
        halt: { type: "string", multiple: true },
        resume: { type: "string", multiple: true },
        deliver: { type: "string", multiple: true },
      },
    }).values;
  } catch (e) {
    throw new CliUsageError((e as Error).message);
  }
  if (values.help === true) return { help: true };
  const str = (name: string) => values[name] as string | undefined;
  const num = (name: string, min: number, max = Infinity): number | undefined => {
    const text = str(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new CliUsageError(`Cannot use --${name} ${text}: expected a number in [${min}, ${max}]`);
    }
    return n;
  };
  const probability = (name: string) => num(name, 0, 1);

  const faults: Partial<Faults> = {};
  const drop = probability("drop-diffs");
  if (drop !== undefined) faults.dropDiffs = { probability: drop };
  const dup = probability("duplicate-diffs");
  if (dup !== undefined) faults.duplicateDiffs = { probability: dup };
  const delay = probability("delay-diffs");
  if (delay !== undefined) faults.delayDiffs = { probability: delay };
  const disconnect = num("disconnect-every", 1);
  if (disconnect !== undefined) faults.disconnect = { everyMs: disconnect };
  const restError = probability("rest-error");
  const rest429 = probability("rest-429");
  const restHang = probability("rest-hang");
  if (restError !== undefined || rest429 !== undefined || restHang !== undefined) {
    faults.rest = { errorProbability: restError, rateLimitProbability: rest429, hangProbability: restHang };
  }
  const stale = probability("stale-snapshots");
  if (stale !== undefined) faults.staleSnapshots = { probability: stale };
  const garbage = probability("garbage");
  if (garbage !== undefined) faults.garbage = { probability: garbage };
  if (values["unknown-fields"] === true) faults.unknownFields = true;
  const burst = num("burst-every", 1);
  if (burst !== undefined) faults.burst = { everyMs: burst, updates: 2000, trades: 50 };
  const shutdown = num("server-shutdown-every", 1);
  if (shutdown !== undefined) faults.serverShutdown = { everyMs: shutdown, closeAfterMs: 1000 };

  const listingChanges = (["list", "delist", "halt", "resume", "deliver"] as const).flatMap((action) =>
    ((values[action] as string[] | undefined) ?? []).map((text) => listingChange(action, text))
  );
  if (listingChanges.length > 0) faults.listingChanges = listingChanges;

  const symbolsText = str("symbols") ?? "BTCUSDT,ETHUSDT,BTCUSD_PERP";
  const symbols = symbolsText.trim().toLowerCase() === "all"
    ? "all" as const
    : symbolsText.split(",").map((s) => s.trim().toUpperCase()).filter((s) => s !== "");
  if (symbols.length === 0) throw new CliUsageError("Cannot use --symbols: the list is empty");
  const universe = str("universe");
  if (universe !== undefined && symbols !== "all") {
    throw new CliUsageError("Cannot use --universe without --symbols all");
  }
  const weights = MARKETS.flatMap((m) => {
    const n = num(`weight-${m}`, 1);
    return n === undefined ? [] : [[m, n] as const];
  });
  return {
    help: false,
    options: {
      symbols,
      ...(universe === undefined ? {} : { universe: parseUniverse(universe) }),
      port: num("port", 0, 65535),
      seed: num("seed", 0),
      rate: num("rate", 0),
      tickMs: num("tick-ms", 0),
      truthFile: str("truth"),
      lifetimeMs: num("lifetime", 1),
      weightPerMinute: Object.fromEntries(weights),
      faults,
    },
  };
}

/** `MARKET:SYMBOL[@MS]`, e.g. `spot:NEWUSDT@60000`, `coinm:BTCUSD_261225@5000`. */
function listingChange(action: ListingChange["action"], text: string): ListingChange {
  const m = /^(\w+):([\p{L}\p{N}_]+)(?:@(\d+))?$/u.exec(text.trim());
  const market = MARKETS.find((k) => k === m?.[1]);
  if (m === null || market === undefined) {
    throw new CliUsageError(
      `Cannot use --${action} ${text}: expected MARKET:SYMBOL[@MS], e.g. spot:NEWUSDT@60000`,
    );
  }
  const change: ListingChange = { action, market, symbol: m[2]!.toUpperCase() };
  if (m[3] !== undefined) change.afterMs = Number(m[3]);
  return change;
}

/** `SPOT,USDM[,COINM]` symbol counts of a generated market. */
function parseUniverse(text: string): Partial<Record<Market, number>> {
  const parts = text.split(",").map((p) => Number(p.trim()));
  if (
    parts.length < 2 || parts.length > 3 || !parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 10_000)
  ) {
    throw new CliUsageError(
      `Cannot use --universe ${text}: expected two or three counts SPOT,USDM[,COINM] in [0, 10000]`,
    );
  }
  return Object.fromEntries(parts.map((n, i) => [MARKETS[i]!, n]));
}
