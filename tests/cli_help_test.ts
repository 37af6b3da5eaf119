/**
 * `--help` / `-h` of every command a user runs, through `deno task` as the user types it: usage on stdout,
 * exit code 0, nothing started.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url);

async function task(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

const COMMANDS: [task: string, usage: RegExp, mentions: string[]][] = [
  ["start", /^Usage: deno task start \[config\.yaml\]/, ["--demo", "--duration", "TELEGRAM_BOT_TOKEN"]],
  ["verify", /^Usage: deno task verify \[data_dir\]/, ["Exit code"]],
  ["report", /^Usage: deno task report \[YYYY-MM-DD\]/, ["--data-dir", "--kv"]],
  ["bench", /^Usage: deno task bench \[flags\]/, ["--symbols", "--minutes"]],
  ["sim", /^Usage: deno task sim \[flags\]/, ["--seed"]],
  ["quick", /^Usage: deno task quick /, ["--minutes", "--sim"]],
];

for (const [name, usage, mentions] of COMMANDS) {
  Deno.test(`deno task ${name} --help and -h print usage to stdout and exit 0`, async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await task(name, flag);
      assert.equal(r.code, 0, `${name} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, usage, `${name} ${flag}`);
      for (const m of mentions) assert.ok(r.stdout.includes(m), `${name} ${flag} mentions ${m}: ${r.stdout}`);
      assert.equal(r.stderr, "", `${name} ${flag}: nothing on stderr`);
    }
  });
}

Deno.test("deno task start with an unknown option exits 2 with the usage on stderr", async () => {
  const r = await task("start", "--bogus");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^unknown option --bogus\n\nUsage: deno task start/);
});
