/**
 * The V8 heap settings of the collector (README "Memory"): every task that runs the collector passes the same
 * `--v8-flags`, and the Deno in use accepts them (an unknown V8 flag stops `deno run` before main.ts starts).
 */
import assert from "node:assert/strict";
import { startTaskV8Flags } from "./_main_process.ts";

const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))) as {
  tasks: Record<string, string>;
};

const v8Flags = (task: string) => config.tasks[task]!.split(/\s+/).filter((a) => a.startsWith("--v8-flags="));

Deno.test("start, demo, quick and compile run the collector with the same V8 heap flags", () => {
  const start = startTaskV8Flags();
  assert.equal(start.length, 1, `one --v8-flags in the start task: ${config.tasks.start}`);
  assert.match(start[0]!, /--max-semi-space-size=\d+/);
  assert.match(start[0]!, /--heap-growing-percent=\d+/);
  for (const task of ["demo", "quick", "compile"]) assert.deepEqual(v8Flags(task), start, task);
});

Deno.test("deno accepts the start task's V8 flags", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", ...startTaskV8Flags(), "console.log('started')"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `deno eval with the flags failed: ${stderr}`);
  assert.equal(new TextDecoder().decode(out.stdout), "started\n");
});
