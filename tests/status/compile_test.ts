/**
 * `deno task compile` builds a binary that really records: it starts, collects from the simulator, encodes
 * Parquet in its worker and commits the files at SIGTERM.
 *
 * `deno compile` embeds only the module graph of `main.ts` plus what `--include` names, and a Web Worker's main
 * module is not part of that graph, so the task must include each one. Two checks of that run everywhere:
 * the task line names every worker of the graph, and `deno compile` with the task's flags lists the worker among
 * its embedded files (compiled onto a stand-in base binary, `DENORT_BIN` = this `deno`, so no runtime download is
 * needed: only deno's report of what it embedded is read; that binary cannot run).
 *
 * The recording run needs Deno's `denort` runtime, which the compile downloads on first use or takes from
 * `DENORT_BIN`. Where it cannot be had (no internet and no `DENORT_BIN`) that test is skipped with the reason in
 * its name; any other compile failure fails it. The task's own line is run, with its output redirected to a temp
 * directory so the test leaves nothing in the work tree.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { verifyDataDir } from "../../lib/report/verify.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { denoInfo } from "../_deno_info.ts";
import { denoTask, denoTaskEnv } from "../_deno_tasks.ts";
import { startProcess } from "../_main_process.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUTPUT_FLAG = "--output dist/binance-collector";

/** The task's arguments after `deno`, writing the binary to `output` instead of dist/. */
function compileArgs(task: string, output: string): string[] {
  assert.ok(task.startsWith("deno compile "), `the compile task runs deno compile: ${task}`);
  assert.ok(task.includes(OUTPUT_FLAG), `the compile task writes dist/binance-collector: ${task}`);
  return task.replace(OUTPUT_FLAG, `--output ${output}`).split(/\s+/).slice(1);
}

/** What running the compile found out. */
type Probe =
  | { kind: "no-task" }
  | { kind: "no-runtime"; detail: string }
  | { kind: "failed"; detail: string }
  | { kind: "built"; binary: string; dir: string };

/**
 * A compile that failed only because `denort` could not be downloaded: deno names the runtime zip it wanted
 * and reports a network error for it (e.g. `error sending request for url (…/denort-x86_64-….zip)… dns error`).
 */
function isRuntimeDownloadFailure(stderr: string): boolean {
  return /denort-[\w.-]+\.zip/.test(stderr) &&
    /error sending request|dns error|connection refused|timed out|failed to lookup/i.test(stderr);
}

async function probe(): Promise<Probe> {
  const task = denoTask("compile");
  if (task === null) return { kind: "no-task" };
  const dir = await Deno.makeTempDir({ prefix: "compile-test-" });
  const binary = `${dir}/binance-collector`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(task, binary),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.success) return { kind: "built", binary, dir };
  await Deno.remove(dir, { recursive: true });
  const detail = new TextDecoder().decode(out.stderr);
  return isRuntimeDownloadFailure(detail) ? { kind: "no-runtime", detail } : { kind: "failed", detail };
}

const WORKER_URL = /new\s+Worker\(\s*new\s+URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Root-relative paths of the Web Worker main modules started (as `new Worker(new URL("…", import.meta.url))`)
 * by the local modules of main.ts's graph, and of those workers' own graphs.
 */
async function workerModules(): Promise<string[]> {
  const found = new Set<string>();
  const roots = ["main.ts"];
  const scanned = new Set<string>();
  while (roots.length > 0) {
    const root = roots.pop()!;
    const info = await denoInfo(root);
    for (const { specifier } of info.modules) {
      if (!specifier.startsWith(`file://${ROOT}`) || scanned.has(specifier)) continue;
      scanned.add(specifier);
      for (const m of (await Deno.readTextFile(new URL(specifier))).matchAll(WORKER_URL)) {
        const worker = fileURLToPath(new URL(m[1]!, specifier)).slice(ROOT.length);
        if (!found.has(worker)) roots.push(worker);
        found.add(worker);
      }
    }
  }
  return [...found].sort();
}

/** The values of the task's `--include` flags. */
function includedPaths(task: string): string[] {
  return [...task.matchAll(/--include[= ](\S+)/g)].map((m) => m[1]!);
}

/**
 * Root-relative paths in the "Embedded Files" tree that `deno compile` prints; a path ending in `/*` stands for
 * a directory embedded whole.
 */
function embeddedPaths(listing: string): string[] {
  // deno-lint-ignore no-control-regex
  const lines = listing.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  const start = lines.findIndex((l) => l.trim() === "Embedded Files");
  if (start < 0) return [];
  const stack: string[] = [];
  const paths: string[] = [];
  for (const line of lines.slice(start + 1)) {
    // e.g. "│ │ ├── parquet_worker.ts (1.64KB)": two columns of indent per level, then the branch.
    const m = /^((?:[│ ] )*)[├└]─[─┬] (.+?) \(/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 2;
    stack.length = depth;
    stack.push(m[2]!);
    paths.push(stack.join("/"));
  }
  return paths;
}

/** Whether `path` is in the listing, on its own or under a directory embedded whole. */
function isEmbedded(embedded: string[], path: string): boolean {
  return embedded.some((e) => e === path || (e.endsWith("/*") && path.startsWith(e.slice(0, -1))));
}

/**
 * Runs the compiled binary against the simulator until a flush wrote rows, stops it with SIGTERM and checks
 * that the data directory verifies clean with trades of both markets committed.
 */
async function recordWith(binary: string): Promise<void> {
  const sim = await startSimulator({ symbols: ["BTCUSDT"], tickMs: 10 });
  const dataDir = await Deno.makeTempDir({ prefix: "compiled-run-" });
  const configPath = `${dataDir}.yaml`;
  await Deno.writeTextFile(
    configPath,
    `symbols: [BTCUSDT]
data_dir: ${dataDir}
log_dir: ${dataDir}/logs
flush_interval: 1
status:
  enabled: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
`,
  );
  const run = startProcess(binary, [configPath]);
  try {
    // A flush that wrote rows went through the Parquet worker. A failed one ends the wait too: e.g. the worker
    // module is not embedded, every flush fails, the rows wait in the journal.
    await run.waitForLog(/flushed reason="interval" files=[1-9]\d* rows=[1-9]|flush failed/, 60_000);
    assert.doesNotMatch(run.log, /flush failed/, `a flush failed:\n${run.tail()}`);
    assert.equal((await run.stop("SIGTERM")).code, 0, run.tail());
    assert.doesNotMatch(run.log, /flush failed/, "every flush succeeded");
    const report = await verifyDataDir(dataDir);
    assert.deepEqual(report.problems, [], "the data directory verifies clean");
    const entries = (await Manifest.load(dataDir)).entries();
    for (const market of ["spot", "usdm"]) {
      const rows = entries.filter((e) => e.market === market && e.table === "trades")
        .reduce((n, e) => n + e.rows, 0);
      assert.ok(rows > 0, `${market} trades were committed`);
    }
  } finally {
    await run.kill();
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath);
  }
}

const result = await probe();
const skipReason = result.kind === "no-task"
  ? "deno.json has no compile task (see docs/deploy.md)"
  : result.kind === "no-runtime"
  ? "deno compile cannot download the denort runtime (no internet) and DENORT_BIN is not set; " +
    "neither npm nor Debian ships denort"
  : null;
if (skipReason) console.warn(`compile_test: skipped: ${skipReason}`);

Deno.test({
  name: `deno task compile builds a binary that records from the simulator and commits Parquet at SIGTERM${
    skipReason ? ` (skipped: ${skipReason})` : ""
  }`,
  ignore: skipReason !== null,
  async fn() {
    if (result.kind === "failed") assert.fail(`deno task compile failed:\n${result.detail.slice(-3000)}`);
    assert.equal(result.kind, "built");
    if (result.kind !== "built") return;
    try {
      const version = await new Deno.Command(result.binary, {
        args: ["--version"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(version.code, 0, new TextDecoder().decode(version.stderr));
      assert.match(new TextDecoder().decode(version.stdout), /^binance-collector \S+/);
      await recordWith(result.binary);
    } finally {
      await Deno.remove(result.dir, { recursive: true });
    }
  },
});

Deno.test('the compiled binary runs with the V8 heap flags of deno task start (README "Memory")', () => {
  const v8 = (task: string | null) =>
    (task ?? "").split(/\s+/).filter((arg) => arg.startsWith("--v8-flags="));
  assert.equal(v8(denoTask("start")).length, 1, "the start task sets the heap flags");
  assert.deepEqual(v8(denoTask("compile")), v8(denoTask("start")));
  assert.deepEqual(v8(denoTask("demo")), v8(denoTask("start")));
});

Deno.test('the service units and the StatefulSet run the binary with the start task\'s environment (README "Memory")', async () => {
  const env = denoTaskEnv("start");
  assert.deepEqual(env, { MALLOC_ARENA_MAX: "1" }, "the start task sets one malloc arena");
  assert.deepEqual(denoTaskEnv("demo"), env);
  for (const unit of ["deploy/binance-collector.service", "deploy/binance-collector@.service"]) {
    const text = await Deno.readTextFile(`${ROOT}${unit}`);
    for (const [name, value] of Object.entries(env)) {
      assert.ok(text.split("\n").includes(`Environment=${name}=${value}`), `${unit} sets ${name}=${value}`);
    }
  }
  const k8s = await Deno.readTextFile(`${ROOT}deploy/k8s/statefulset.yaml`);
  for (const [name, value] of Object.entries(env)) {
    assert.match(k8s, new RegExp(`- name: ${name}\\n\\s+value: "${value}"`), `the StatefulSet sets ${name}`);
  }
});

Deno.test("the compile task includes every Web Worker module of main.ts's graph", async () => {
  const task = denoTask("compile");
  assert.ok(task !== null, "deno.json has a compile task");
  const workers = await workerModules();
  assert.ok(workers.includes("lib/storage/parquet_worker.ts"), `the Parquet worker is found: ${workers}`);
  const included = includedPaths(task);
  for (const w of workers) assert.ok(included.includes(w), `--include ${w} in: ${task}`);
});

Deno.test("deno compile with the task's flags embeds every worker module (stand-in base binary)", async () => {
  const task = denoTask("compile");
  assert.ok(task !== null, "deno.json has a compile task");
  const dir = await Deno.makeTempDir({ prefix: "compile-listing-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(task, `${dir}/binance-collector`),
      cwd: ROOT,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const listing = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `deno compile failed:\n${listing.slice(-3000)}`);
    const embedded = embeddedPaths(listing);
    for (const path of ["main.ts", "deno.lock", "lib/storage/parquet_encoder.ts", ...await workerModules()]) {
      assert.ok(isEmbedded(embedded, path), `${path} is embedded:\n${listing.slice(-4000)}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("embeddedPaths() reads deno compile's tree, with directories embedded whole", () => {
  const listing = "Compile main.ts to /tmp/x/bc\n\nEmbedded Files\n\nbc\n" +
    "├─┬ .deno_compile_node_modules (26.34MB - 16.76MB unique)\n" +
    "│ └─┬ localhost (26.34MB - 16.76MB unique)\n" +
    "│   └── yaml/2.9.1/* (675.49KB - 674KB unique)\n" +
    "├── cron/* (68.95KB)\n" +
    "├─┬ lib (1.56MB)\n" +
    "│ ├── app.ts (11.64KB)\n" +
    "│ ├─┬ storage (173.15KB)\n" +
    "│ │ ├── parquet_encoder.ts (5.96KB)\n" +
    "│ │ └── tables.ts (16.53KB)\n" +
    "│ └── version.ts (340B)\n" +
    "└── main.ts (23.23KB)\n\nFiles: 18.57MB\n";
  const embedded = embeddedPaths(listing);
  assert.equal(isEmbedded(embedded, "lib/storage/parquet_encoder.ts"), true);
  assert.equal(isEmbedded(embedded, "lib/storage/parquet_worker.ts"), false);
  assert.equal(isEmbedded(embedded, "lib/version.ts"), true);
  assert.equal(isEmbedded(embedded, "cron/flush.ts"), true);
  assert.equal(isEmbedded(embedded, "main.ts"), true);
  assert.equal(isEmbedded(embedded, "lib/app.ts"), true);
  assert.equal(isEmbedded(embedded, "app.ts"), false);
  assert.equal(isEmbedded(embedded, ".deno_compile_node_modules/localhost/yaml/2.9.1/dist/index.js"), true);
  assert.deepEqual(embeddedPaths("error: no listing"), []);
});

Deno.test("isRuntimeDownloadFailure() recognises only a failed denort download", () => {
  const offline = "Compile main.ts to dist/binance-collector\nDownload https://dl.deno.land/release/v2.9.6/" +
    "denort-x86_64-unknown-linux-gnu.zip\nerror: Writing deno compile executable to temporary file\n\n" +
    "Caused by:\n    0: Setting up base binary.\n    1: error sending request for url (https://dl.deno.land/" +
    "release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup " +
    "address information: Name or service not known";
  assert.equal(isRuntimeDownloadFailure(offline), true);
  assert.equal(isRuntimeDownloadFailure('error: Module not found "file:///repo/main.ts".'), false);
  assert.equal(isRuntimeDownloadFailure("error: Could not find denort at '/opt/denort'"), false);
  assert.equal(
    isRuntimeDownloadFailure("TS2322 [ERROR]: Type 'string' is not assignable to type 'number'."),
    false,
  );
});
