/**
 * The process helper of the main.ts tests (tests/_main_process.ts), on small `deno eval` programs: it waits for
 * log lines, counts them, fails with the log's end when a line never comes or the process ends without it, and
 * reports the exit of a stop.
 */
import assert from "node:assert/strict";
import { startProcess } from "./_main_process.ts";

/** A `deno eval` program as the process. */
const evalProcess = (code: string, stdout = false) =>
  startProcess(Deno.execPath(), ["eval", code], { stdout, env: { NO_COLOR: "1" } });

Deno.test("waitForLog resolves with the match once the line came the given number of times", async () => {
  const p = evalProcess(
    `
    console.log("out");
    for (let i = 1; i <= 3; i++) { console.error("tick n=" + i); await new Promise((r) => setTimeout(r, 50)); }
    await new Promise((r) => setTimeout(r, 60_000));`,
    true,
  );
  try {
    const m = await p.waitForLog(/tick n=(\d)/g, 10_000, 3);
    assert.equal(m[1], "1", "the first match");
    assert.equal(p.count(/tick n=/), 3);
    const status = await p.stop("SIGTERM");
    assert.equal(status.signal, "SIGTERM");
    assert.equal(p.stdout, "out\n");
    await assert.rejects(() => p.stop("SIGTERM"), /Cannot send SIGTERM: the process already exited/);
  } finally {
    await p.kill();
  }
});

Deno.test("waitForLog fails with the log's end when the process exits without the line", async () => {
  const p = evalProcess(`console.error("config error: nope"); Deno.exit(2);`);
  try {
    await assert.rejects(
      () => p.waitForLog(/collector started/, 10_000),
      /^Error: The process exited \(code 2\) before logging \/collector started\/:\nconfig error: nope\n$/,
    );
  } finally {
    await p.kill();
  }
});

Deno.test("waitForLog fails with the log's end after the timeout", async () => {
  const p = evalProcess(`console.error("still starting"); await new Promise((r) => setTimeout(r, 60_000));`);
  try {
    await p.waitForLog(/still starting/, 10_000);
    await assert.rejects(
      () => p.waitForLog(/still starting/, 200, 2),
      /^Error: Timed out after 200 ms waiting for \/still starting\/ 2 times in the log:\nstill starting\n$/,
    );
  } finally {
    await p.kill();
  }
  assert.equal((await p.status).signal, "SIGKILL");
});
