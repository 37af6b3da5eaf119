/**
 * SIGTERM while the collector is still starting (here: its REST initialisation hangs) is not a kill: the
 * process finishes starting, stops cleanly and exits 0, with its clean-stop record in the journal.
 */
import assert from "node:assert/strict";
import { startSimulator } from "../../lib/sim/server.ts";
import { startMain } from "../_main_process.ts";

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
  const main = startMain([`${dir}/config.yaml`]);
  try {
    await main.waitForLog(/ starting /, 20_000);
    main.child.kill("SIGTERM");
    await main.waitForLog(/stop requested during start-up/, 10_000);
    sim.faults.rest = null; // start-up may go on (the hanging request times out)
    assert.equal((await main.status).code, 0, main.tail(2000));
    assert.match(main.log, /collector started/);
    assert.match(main.log, /collector stopped/);
  } finally {
    await main.kill();
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});
