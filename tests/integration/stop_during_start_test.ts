/**
 * SIGTERM while the collector is still starting is not a kill: the process finishes starting, stops cleanly and
 * exits 0, with its clean-stop record in the journal. Start-up is held for as long as the test wants by making
 * the manifest it reads a named pipe (`mkfifo`): the read waits until the test writes the manifest.
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
  // Start-up reads the manifest of a data directory without a checkpoint: a pipe holds it there.
  await Deno.mkdir(`${dir}/data/_manifest`, { recursive: true });
  const pipe = `${dir}/data/_manifest/checksums.json`;
  const made = await new Deno.Command("mkfifo", { args: [pipe] }).output();
  assert.ok(made.success, new TextDecoder().decode(made.stderr));
  const main = startMain([`${dir}/config.yaml`]);
  try {
    await main.waitForLog(/ starting /, 20_000);
    main.child.kill("SIGTERM");
    await main.waitForLog(/stop requested during start-up/, 10_000);
    assert.doesNotMatch(main.log, /collector started/, "start-up is still held by the pipe");
    // Let start-up go on: the pipe gives an empty manifest once, and a regular file takes its place for later reads.
    const manifest = new TextEncoder().encode(JSON.stringify({ version: 1, files: [] }));
    const writer = await Deno.open(pipe, { write: true });
    await Deno.writeFile(`${pipe}.tmp`, manifest);
    await Deno.rename(`${pipe}.tmp`, pipe);
    await writer.write(manifest);
    writer.close();
    assert.equal((await main.status).code, 0, main.tail(2000));
    assert.match(main.log, /collector started/);
    assert.match(main.log, /collector stopped/);
  } finally {
    await main.kill();
    await sim.close();
    await Deno.remove(dir, { recursive: true });
  }
});
