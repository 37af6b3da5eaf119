/**
 * `deno task quick [--minutes M] [CONFIG]`: records a few minutes with the real collector (lib/app.ts, the
 * assembly `deno task start` runs) into a fresh directory, then writes per-symbol CSV files of the book snapshots
 * and trades and prints a summary. The check a user of the old Python collector's `quick_test.py` runs first.
 * Exit code: 0 done, 1 the collector failed, 2 bad options or config.
 * @module
 */

import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { startApp } from "../lib/app.ts";
import { type Market, MARKETS } from "../lib/binance/types.ts";
import { type Config, InvalidConfigError, loadConfig, parseConfig } from "../lib/config.ts";
import { listRecordedFiles } from "../lib/export/files.ts";
import { type CsvFile, CsvFileSet } from "../lib/export/csv_files.ts";
import { QuickSummary, type RecordedMarket, tablesOfStreams } from "../lib/export/quick_summary.ts";
import { textColumns } from "../lib/export/text_rows.ts";
import { consoleLogger, type Logger } from "../lib/log.ts";
import { DailyLogFile } from "../lib/log_file.ts";
import { startSimulator } from "../lib/sim/server.ts";
import type { ManifestEntry } from "../lib/storage/manifest.ts";
import { streamRows } from "../lib/storage/row_stream.ts";
import type { TableName } from "../lib/storage/tables.ts";
import { oneAtMost, toolOptions, UsageError, usageErrors } from "./cli_args.ts";

/** The symbols of the Python collector's quick test, recorded when no config is given. */
export const DEFAULT_SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"];

/** Tables written as per-symbol CSV files. */
const CSV_TABLES: readonly TableName[] = ["book_snapshots", "trades"];

/** Printed by `--help` and after a bad argument. */
export const USAGE = `Usage: deno task quick [--minutes M] [--sim] [--out DIR] [CONFIG]

Records a few minutes with the collector into a fresh directory, writes per-symbol CSV files (book snapshots
with their top levels, trades) and prints a summary: rows per table and symbol, first and last time, gaps.

Without CONFIG it records ${DEFAULT_SYMBOLS.join(" ")} on spot and USD-M futures with
the default settings; with CONFIG, that file's symbols ("all" too), markets and streams (its data_dir,
log_dir, kv_path, cloud and Telegram settings are not used).

  --minutes M   how long to record (default 5; fractions work: 0.5 is 30 s). Ctrl-C stops early and still
                writes the CSV files and the summary
  --sim         record the built-in Binance simulator instead of Binance (no network needed)
  --out DIR     the directory to create (default: quick-test-<UTC time>, e.g. quick-test-20261124T101500Z);
                it must not exist
  -h, --help    print this help and exit

In DIR: data/ (Parquet, as data_dir; deno task export --data-dir DIR/data reads it), logs/ (the collector's
log), csv/<market>/<SYMBOL>_book_snapshots.csv and _trades.csv, summary.txt. CSV time columns hold µs since
the epoch, each followed by <column>_iso (ISO 8601 UTC); bid_prices[1] is the best bid.`;

interface Options {
  minutes: number;
  sim: boolean;
  out: string | undefined;
  configPath: string | undefined;
}

function parseOptions(args: string[]): Options | "help" {
  const parsed = usageErrors(() =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        minutes: { type: "string", default: "5" },
        sim: { type: "boolean", default: false },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    })
  );
  const v = parsed.values;
  if (v.help) return "help";
  const configPath = oneAtMost(parsed.positionals, "CONFIG");
  const minutes = Number(v.minutes);
  if (v.minutes.trim() === "" || !(minutes > 0 && minutes <= 1440)) {
    throw new UsageError(`--minutes must be a number above 0 and at most 1440, got "${v.minutes}"`);
  }
  if (v.out === "") throw new UsageError("--out is empty");
  return { minutes, sim: v.sim, out: v.out, configPath };
}

/** `quick-test-YYYYMMDDTHHMMSSZ` for the current UTC time. */
function defaultOutDir(now: Date): string {
  return `quick-test-${now.toISOString().slice(0, 19).replace(/[-:]/g, "")}Z`;
}

/** The user's config (or the six-symbol default), recording into `dir` and nothing else. */
async function quickConfig(configPath: string | undefined, dir: string): Promise<Config> {
  const config = configPath === undefined
    ? parseConfig(`symbols: [${DEFAULT_SYMBOLS.join(", ")}]\n`, "quick test defaults")
    : await loadConfig(configPath, Deno.env);
  const dataDir = join(dir, "data");
  return {
    ...config,
    dataDir,
    kvPath: join(dataDir, "_state", "ledger.sqlite"),
    logDir: join(dir, "logs"),
    cloudRemote: "",
    telegramChatIds: [],
    telegramToken: null,
    status: { ...config.status, enabled: false },
  };
}

/**
 * Ctrl-C or SIGTERM, heard from construction on (a stop during start-up is carried out once the collector
 * runs), or the end of the recording time.
 */
class StopRequest {
  readonly #handlers: [Deno.Signal, () => void][];
  readonly #stopped = Promise.withResolvers<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    this.#handlers = signals.map((s) => [s, () => this.#stopped.resolve(s)]);
    for (const [s, handler] of this.#handlers) Deno.addSignalListener(s, handler);
  }

  /** Resolves with the reason: a signal, or "time is up" `ms` after this call. */
  after(ms: number): Promise<string> {
    this.#timer = setTimeout(() => this.#stopped.resolve("time is up"), ms);
    return this.#stopped.promise;
  }

  /** Stops listening: a later Ctrl-C ends the process as usual. */
  dispose(): void {
    clearTimeout(this.#timer);
    for (const [s, handler] of this.#handlers) Deno.removeSignalListener(s, handler);
  }
}

/** Streams every table of each market once: feeds the summary and writes the per-symbol CSV files. */
async function writeCsvAndSummarize(
  dir: string,
  dataDir: string,
  files: readonly ManifestEntry[],
  markets: readonly RecordedMarket[],
  topLevels: number,
): Promise<{ summary: QuickSummary; csvFiles: CsvFile[] }> {
  const summary = new QuickSummary();
  const csvFiles: CsvFile[] = [];
  for (const m of markets) {
    const present = new Set(files.filter((e) => e.market === m.market).map((e) => e.table));
    for (const table of new Set<TableName>([...m.tables, ...present, "gaps"])) {
      const csv = m.tables.includes(table) && CSV_TABLES.includes(table)
        ? new CsvFileSet(dir, `csv/${m.market}`, table, textColumns(table, { levels: topLevels }))
        : null;
      try {
        // Every recorded symbol gets its file, a header alone if it had no row.
        for (const symbol of m.symbols) csv?.add(symbol);
        if (present.has(table)) {
          for await (const rows of streamRows(dataDir, files, { market: m.market, table })) {
            summary.add(m.market, table, rows);
            if (csv) { for (const row of rows) await csv.row(row.symbol as string, row); }
          }
        }
        if (csv) csvFiles.push(...await csv.commit());
      } catch (err) {
        await csv?.abort();
        throw err;
      }
    }
  }
  return { summary, csvFiles };
}

/** Runs the quick test on `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const options = toolOptions("quick", USAGE, () => parseOptions(args));
  if (typeof options === "number") return options;
  const dir = options.out ?? defaultOutDir(new Date());
  let config: Config;
  try {
    config = await quickConfig(options.configPath, dir);
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    for (const p of err.problems) console.error(`config error: ${p.message}`);
    return 2;
  }
  try {
    await Deno.mkdir(dirname(dir), { recursive: true });
    await Deno.mkdir(dir, { recursive: false });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      console.error(`quick: ${dir} exists; choose another --out (nothing was changed)`);
      return 2;
    }
    throw err;
  }

  const enabled = Object.values(config.markets).filter((m) => m.enabled);
  // `symbols: all`: the collector picks the symbols from exchangeInfo; they are known once it runs.
  const all = enabled.some((m) => m.all !== null);
  const listed = [...new Set(enabled.flatMap((m) => m.symbols))];
  const sim = options.sim ? await startSimulator({ symbols: all ? "all" : listed }) : null;
  if (sim) {
    const { spot, usdm, coinm } = config.markets;
    // COIN-M is not simulated.
    config = {
      ...config,
      markets: {
        spot: { ...spot, ...sim.spot },
        usdm: { ...usdm, ...sim.usdm },
        coinm: { ...coinm, enabled: false },
      },
    };
  }
  const logFile = new DailyLogFile({ dir: config.logDir, retentionDays: 0 });
  const source = sim ? "the built-in simulator" : "Binance";
  const what = all ? "the symbols of `symbols: all`" : `${listed.length} symbols (${listed.join(" ")})`;
  console.log(
    `Recording ${what} on ${enabled.map((m) => m.market).join(", ")} from ${source} ` +
      `for ${options.minutes} min into ${dir}/ (Ctrl-C stops early)`,
  );
  try {
    const run = await record(config, consoleLogger({ also: logFile }), options.minutes * 60_000, sim);
    const markets: RecordedMarket[] = enabled.map((m) => ({
      market: m.market,
      symbols: m.all === null ? m.symbols : run.symbols.get(m.market) ?? [],
      tables: tablesOfStreams(m.streams),
    }));
    const symbols = new Set(markets.flatMap((m) => m.symbols));
    const files = await listRecordedFiles(config.dataDir, config.kvPath);
    const { summary, csvFiles } = await writeCsvAndSummarize(
      dir,
      config.dataDir,
      files.entries,
      markets,
      config.orderbookTopLevels,
    );
    const text = [
      `Quick test: ${symbols.size} symbols from ${source}, ${
        run.seconds.toFixed(1)
      } s recorded (${run.why}).`,
      `In ${dir}/: data/ (Parquet), csv/, logs/, summary.txt`,
      "",
      summary.format(markets, csvFiles),
      "",
      `Any table as CSV, JSON lines or Parquet: deno task export --data-dir ${dir}/data --table T --symbol S`,
    ].join("\n");
    await Deno.writeTextFile(join(dir, "summary.txt"), text + "\n");
    console.log(`\n${text}`);
    return 0;
  } catch (err) {
    console.error(`quick: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await sim?.close();
    await logFile.close();
  }
}

/**
 * Runs the collector assembly of `deno task start` (lib/app.ts) for `ms` or until Ctrl-C, then stops it
 * cleanly (final flush) and closes the simulator, if any.
 */
async function record(
  config: Config,
  log: Logger,
  ms: number,
  sim: { close(): Promise<void> } | null,
): Promise<{ why: string; seconds: number; symbols: Map<Market, readonly string[]> }> {
  const stopRequest = new StopRequest();
  try {
    const app = await startApp(config, log, { env: Deno.env });
    const startedMs = Date.now();
    try {
      const why = await stopRequest.after(ms);
      log("info", "quick test: stopping", { why });
      const symbols = new Map(MARKETS.map((m) => [m, [...app.collector.symbolsOf(m)]]));
      return { why, seconds: (Date.now() - startedMs) / 1000, symbols };
    } finally {
      stopRequest.dispose();
      await app.stop();
      await sim?.close();
    }
  } finally {
    stopRequest.dispose();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
