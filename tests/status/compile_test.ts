/**
 * `deno task compile` builds a binary that starts. The compile downloads Deno's `denort` runtime on first use,
 * so on a machine without internet the test is skipped with that reason in its name; any other compile
 * failure fails it. The task's own line is run, with its output redirected to a temp directory so the test
 * leaves nothing in the work tree.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUTPUT_FLAG = "--output dist/binance-collector";

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
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
    tasks?: Record<string, string>;
  };
  const task = config.tasks?.compile;
  if (task === undefined) return { kind: "no-task" };
  assert.ok(task.startsWith("deno compile "), `the compile task runs deno compile: ${task}`);
  assert.ok(task.includes(OUTPUT_FLAG), `the compile task writes dist/binance-collector: ${task}`);
  const dir = await Deno.makeTempDir({ prefix: "compile-test-" });
  const binary = `${dir}/binance-collector`;
  const args = task.replace(OUTPUT_FLAG, `--output ${binary}`).split(/\s+/).slice(1);
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  if (out.success) return { kind: "built", binary, dir };
  await Deno.remove(dir, { recursive: true });
  const detail = new TextDecoder().decode(out.stderr);
  return isRuntimeDownloadFailure(detail) ? { kind: "no-runtime", detail } : { kind: "failed", detail };
}

const result = await probe();
const skipReason = result.kind === "no-task"
  ? "deno.json has no compile task (see docs/deploy.md)"
  : result.kind === "no-runtime"
  ? "deno compile cannot download the denort runtime here (no internet); set DENORT_BIN or run where it can"
  : null;
if (skipReason) console.warn(`compile_test: skipped: ${skipReason}`);

Deno.test({
  name: `deno task compile builds a binary that answers --version${
    skipReason ? ` (skipped: ${skipReason})` : ""
  }`,
  ignore: skipReason !== null,
  async fn() {
    if (result.kind === "failed") assert.fail(`deno task compile failed:\n${result.detail.slice(-3000)}`);
    assert.equal(result.kind, "built");
    if (result.kind !== "built") return;
    try {
      const out = await new Deno.Command(result.binary, {
        args: ["--version"],
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(stdout, /^binance-collector \S+/);
    } finally {
      await Deno.remove(result.dir, { recursive: true });
    }
  },
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
