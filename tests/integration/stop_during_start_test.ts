/**
 * SIGTERM while the collector is still starting (here: its REST initialisation hangs) is not a kill: the
 * process finishes starting, stops cleanly and exits 0, with its clean-stop record in the journal.
 */
import assert from "node:assert/strict";
import { startSimulator } from "../../lib/sim/server.ts";
import { waitFor } from "./_harness.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test("main.ts: SIGTERM during start-up stops cleanly once started (exit 0)", async () => {
  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 3 });
  const dir = await Deno.makeTempDir({ prefix: "stop-during-start-" });
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `symbols: [BTCUSDT]
data_dir: ${dir}/data
log_dir: ${dir}/logs
use_futures: false
ntp_server: "127.0.0.1:9"
status:
  enabled: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
    streams: [aggTrade]
`,
  );
  // Every REST request hangs: start-up waits on exchangeInfo.
  sim.faults.rest = { hangProbability: 1, hangMs: 60_000 };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, `${dir}/config.yaml`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  try {
    await waitFor("the start-up to begin", () => stderr.includes(" starting "), 20_000);
    child.kill("SIGTERM");
    await waitFor("the stop to be noted", () => stderr.includes("stop requested during start-up"), 10_000);
    sim.faults.rest = null; // start-up may go on (the hanging request times out)
    const status = await child.status;
    await reading;
    assert.equal(status.code, 0, stderr.slice(-2000));
    assert.match(stderr, /collector started/);
    assert.match(stderr, /collector stopped/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});
