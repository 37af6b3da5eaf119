/**
 * Runs one chaos scenario: the simulator (with ground truth) in this process, the collector as a real
 * `main.ts` process that is stopped (SIGTERM) or killed (SIGKILL) at the scenario's moments and started again,
 * and the scenario's faults switched on the simulator meanwhile. Afterwards every file is verified against the
 * ledger, and what was written is compared with the ground truth (truth_check.ts).
 * @module
 */
import { fileURLToPath } from "node:url";
import { type Market, MARKETS } from "../../lib/binance/markets.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { verifyDataDir } from "../../lib/report/verify.ts";
import { type Faults, noFaults } from "../../lib/sim/faults.ts";
import { deliverySymbol, quarterlyAfter } from "../../lib/sim/coinm_contracts.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { readTableRows } from "../../lib/storage/read_rows.ts";
import type { Scenario } from "./scenario.ts";
import { checkMarket, type Recorded, type Tally } from "./truth_check.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
export const CHAOS_SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const TOP_LEVELS = 10;
/** The streams recorded on both futures markets. */
const FUTURES_STREAMS = "[depth@100ms, aggTrade, kline_1m, bookTicker, forceOrder, markPrice@1s]";

/** COIN-M's symbols: the BTC perpetual and the quarterly delivering next (named by the date). */
export function coinmSymbols(nowMs: number = Date.now()): string[] {
  return ["BTCUSD_PERP", deliverySymbol("BTCUSD", quarterlyAfter(nowMs))];
}

/** What one scenario did and found. */
export interface ChaosResult {
  seed: number;
  runs: number;
  kills: number;
  terms: number;
  faults: number;
  tallies: Tally[];
  /** Problems `verify` found in the files. */
  verifyProblems: string[];
  /** Server accepts again → resubscribed, per refused outage the collector lived through (ms). */
  reconnectMs: number[];
  /** Things that went wrong with the run itself (a stop that did not exit 0, …). */
  errors: string[];
}

/** Options of {@link runScenario}. */
export interface RunOptions {
  /** Progress lines. */
  progress?: (line: string) => void;
  /** Keep the data directory (its path is reported in progress). */
  keep?: boolean;
}

function config(sim: Awaited<ReturnType<typeof startSimulator>>, dataDir: string, coinm: string[]): string {
  return `symbols: [${CHAOS_SYMBOLS.join(", ")}]
data_dir: ${JSON.stringify(dataDir)}
log_dir: ${JSON.stringify(`${dataDir}/logs`)}
flush_interval: 3
orderbook_depth: 500
orderbook_top_levels: ${TOP_LEVELS}
ntp_server: "127.0.0.1:9"
status:
  enabled: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
    streams: [depth@100ms, aggTrade, kline_1s, bookTicker]
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
    streams: ${FUTURES_STREAMS}
  coinm:
    enabled: true
    symbols: [${coinm.join(", ")}]
    rest_url: ${sim.coinm.restUrl}
    ws_url: ${sim.coinm.wsUrl}
    streams: ${FUTURES_STREAMS}
`;
}

/** The collector process, its stderr appended to `logPath`. */
class CollectorProcess {
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;

  constructor(configPath: string, logPath: string) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, configPath],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#drained = (async () => {
      const file = await Deno.open(logPath, { append: true, create: true });
      await child.stderr.pipeTo(file.writable);
    })();
  }

  /** Sends `signal` and waits for the exit; a SIGTERM that takes over 30 s is followed by SIGKILL. */
  async stop(signal: Deno.Signal): Promise<Deno.CommandStatus & { forced: boolean }> {
    this.#child.kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const forced = await Promise.race([
      this.#child.status.then(() => false),
      new Promise<boolean>((r) => timer = setTimeout(() => r(true), 30_000)),
    ]);
    clearTimeout(timer);
    if (forced) this.#child.kill("SIGKILL");
    const status = await this.#child.status;
    await this.#drained.catch(() => {});
    return { ...status, forced };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Runs `scenario` (see the module docs). */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ChaosResult> {
  const progress = options.progress ?? (() => {});
  const coinm = coinmSymbols();
  const symbolsOf = (market: Market) => market === "coinm" ? coinm : CHAOS_SYMBOLS;
  const sim = await startSimulator({
    symbols: [...CHAOS_SYMBOLS, ...coinm],
    seed: scenario.seed,
    tickMs: 10,
    truth: true,
    weightPerMinute: scenario.weightPerMinute,
  });
  const dataDir = await Deno.makeTempDir({ prefix: `chaos-${scenario.seed}-` });
  const configPath = `${dataDir}/config.yaml`;
  const logPath = `${dataDir}/collector.stderr.log`;
  await Deno.writeTextFile(configPath, config(sim, dataDir, coinm));
  const result: ChaosResult = {
    seed: scenario.seed,
    runs: 1,
    kills: 0,
    terms: 0,
    faults: 0,
    tallies: [],
    verifyProblems: [],
    reconnectMs: [],
    errors: [],
  };
  /** Refused outages: when they began and the server accepted again, for which market. */
  const refusals: { market: Market; fromMs: number; acceptsAtMs: number }[] = [];
  /** When the collector was stopped or killed (an outage it did not live through is not a reconnect). */
  const stops: number[] = [];
  const resets: ReturnType<typeof setTimeout>[] = [];
  const t0 = Date.now();
  let proc = new CollectorProcess(configPath, logPath);
  try {
    for (const step of scenario.steps) {
      await sleep(t0 + step.atMs - Date.now());
      if (step.kind === "fault") {
        result.faults++;
        const set: Partial<Faults> = { ...step.set };
        if (set.refuseConnectionsUntil !== undefined) {
          set.refuseConnectionsUntil = Date.now() + set.refuseConnectionsUntil;
          const market = set.disconnect?.market ?? "spot";
          refusals.push({ market, fromMs: Date.now(), acceptsAtMs: set.refuseConnectionsUntil });
        }
        Object.assign(sim.faults, set);
        resets.push(setTimeout(() => {
          const off = noFaults(sim.faults.lifetimeMs);
          for (const key of Object.keys(set) as (keyof Faults)[]) {
            (sim.faults as unknown as Record<string, unknown>)[key] = off[key];
          }
        }, step.forMs));
        continue;
      }
      stops.push(Date.now());
      const status = await proc.stop(step.signal);
      if (step.signal === "SIGKILL") result.kills++;
      else {
        result.terms++;
        if (status.code !== 0 || status.forced) {
          result.errors.push(
            `SIGTERM at ${step.atMs} ms: exit code ${status.code}${status.forced ? " (hung)" : ""}`,
          );
        }
      }
      await sleep(step.downMs);
      proc = new CollectorProcess(configPath, logPath);
      result.runs++;
    }
    await sleep(t0 + scenario.durationMs - Date.now());
    for (const t of resets) clearTimeout(t);
    Object.assign(sim.faults, noFaults(sim.faults.lifetimeMs));
    await sleep(3000);
    const last = await proc.stop("SIGTERM");
    result.terms++;
    if (last.code !== 0 || last.forced) {
      result.errors.push(`final SIGTERM: exit code ${last.code}${last.forced ? " (hung)" : ""}`);
      // As a user would: start it once more so that recovery brings the files up to date, then stop it.
      proc = new CollectorProcess(configPath, logPath);
      result.runs++;
      await sleep(8000);
      await proc.stop("SIGTERM");
    }

    const verified = await verifyDataDir(dataDir);
    result.verifyProblems = verified.problems.map((p) => JSON.stringify(p));
    const ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`, { get: () => undefined });
    const files = await ledger.listFiles();
    ledger.close();
    for (const market of MARKETS) {
      const read = <N extends Parameters<typeof readTableRows>[3]>(table: N) =>
        readTableRows(dataDir, files, market, table);
      const recorded: Recorded = {
        trades: await read("trades"),
        depth: await read("depth_updates"),
        books: await read("book_snapshots"),
        klines: await read("klines"),
        tickers: await read("book_tickers"),
        marks: await read("mark_prices"),
        liquidations: await read("liquidations"),
        gaps: await read("gaps"),
      };
      result.tallies.push(...checkMarket(sim.truth, market, symbolsOf(market), recorded, TOP_LEVELS));
    }
    result.reconnectMs = await reconnectTimes(logPath, refusals, stops);
  } catch (err) {
    result.errors.push(String(err));
  } finally {
    for (const t of resets) clearTimeout(t);
    await sim.close();
    if (options.keep || result.errors.length > 0 || bad(result)) progress(`data kept in ${dataDir}`);
    else await Deno.remove(dataDir, { recursive: true });
  }
  return result;
}

/** True when the result breaks the promise. */
export function bad(r: ChaosResult): boolean {
  return r.errors.length > 0 || r.verifyProblems.length > 0 ||
    r.tallies.some((t) => t.missingOutsideGaps > 0 || t.duplicates > 0 || t.wrong > 0);
}

/**
 * For each refused outage the collector lived through (no stop between its start and the resubscription): from
 * the server accepting again to the market's next "subscribed" log line.
 */
async function reconnectTimes(
  logPath: string,
  refusals: { market: Market; fromMs: number; acceptsAtMs: number }[],
  stops: number[],
): Promise<number[]> {
  const subscribed: { market: string; atMs: number }[] = [];
  for (const line of (await Deno.readTextFile(logPath)).split("\n")) {
    const m = /^(\S+) INFO\s+subscribed market="(\w+)"/.exec(line);
    if (m) subscribed.push({ market: m[2]!, atMs: Date.parse(m[1]!) });
  }
  const out: number[] = [];
  for (const r of refusals) {
    const next = subscribed.find((s) => s.market === r.market && s.atMs >= r.acceptsAtMs);
    if (next && !stops.some((t) => t >= r.fromMs && t <= next.atMs)) out.push(next.atMs - r.acceptsAtMs);
  }
  return out;
}
