/**
 * A collector restarted after months of a whole market (spot and USD-M, every table's compacted hours: 20 files
 * an hour), with a remote, `cleanup_days: 0` and every file already uploaded: how long it holds every entry
 * before the sync's start-up run confirms them and the manifest seals the settled days, and its RSS meanwhile.
 * `main.ts` runs with the `start` task's V8 flags and environment, recording one simulated symbol. Not a test:
 * the figures go into the README ("Benchmark").
 *
 * With `--import`, the ledger is new instead (no checkpoint, no remote) and `checksums.json` holds the months of
 * files: the collector imports them into the ledger as it starts (data moved to a new VM without its KV, or a
 * lost ledger), and the bench reports how long that takes and the RSS.
 *
 * `deno run -A bench/restart.ts [--days 365] [--import]`
 */
import { remoteRoot } from "../lib/cloud/rclone.ts";
import { SyncState } from "../lib/cloud/sync_state.ts";
import { HOUR_US } from "../lib/ledger/intervals.ts";
import { openLedger } from "../lib/ledger/open.ts";
import { startSimulator } from "../lib/sim/server.ts";
import { Manifest, type ManifestEntry } from "../lib/storage/manifest.ts";
import { compactedDay } from "./compacted_day.ts";
import { procSample } from "./proc.ts";
import { startMain, startTaskEnv, startTaskV8Flags } from "../tests/_main_process.ts";
import { writeUsdmProcessConfig } from "../tests/integration/_harness.ts";

const i = Deno.args.indexOf("--days");
const DAYS = i < 0 ? 365 : Number(Deno.args[i + 1]);
const IMPORT = Deno.args.includes("--import");

/** The compacted files of the days before the last 3 (the hours of the last days are still being uploaded). */
function monthsOfEntries(todayUs: number): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (let d = DAYS + 2; d >= 3; d--) out.push(...compactedDay(todayUs - d * 24 * HOUR_US));
  return out;
}

/** A ledger that has recorded `entries`, all uploaded to `root`, as a running collector leaves it. */
async function uploadedLedger(dataDir: string, entries: ManifestEntry[], root: string): Promise<void> {
  const ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`, { get: () => undefined });
  await ledger.addFiles(entries);
  // A running collector has committed a checkpoint (without one, start-up imports checksums.json instead).
  await ledger.commitCheckpoint(null, { segment: 1, offset: 0 }, []);
  const state = new SyncState(ledger.kv);
  const atUs = Date.now() * 1000;
  for (let at = 0; at < entries.length; at += 500) {
    await Promise.all(entries.slice(at, at + 500).map((e) => state.markSynced({ ...e, remote: root, atUs })));
  }
  ledger.close();
}

const dataDir = await Deno.makeTempDir({ prefix: "bench-restart-" });
const remoteDir = await Deno.makeTempDir({ prefix: "bench-restart-remote-" });
const root = remoteRoot(":local:", remoteDir);
const entries = monthsOfEntries(Math.floor(Date.now() / 86_400_000) * 86_400_000 * 1000);
let t0 = performance.now();
if (IMPORT) await Manifest.of(dataDir, entries).save();
else await uploadedLedger(dataDir, entries, root);
console.log(
  `${DAYS} days: ${entries.length} files ${
    IMPORT ? "in checksums.json, none in the ledger" : "in the ledger, uploaded"
  } (${((performance.now() - t0) / 1000).toFixed(1)} s to set up)`,
);
entries.length = 0;

const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 6, tickMs: 20 });
const configPath = await writeUsdmProcessConfig(
  dataDir,
  sim,
  IMPORT ? "" : `cloud_remote: ":local:"\ncloud_path: ${JSON.stringify(remoteDir)}\ncleanup_days: 0\n`,
);
t0 = performance.now();
const main = startMain([configPath], {
  denoFlags: [...startTaskV8Flags(), "--allow-all"],
  env: startTaskEnv(),
});
const at = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const mem = async () => {
  const s = await procSample(main.child.pid);
  return s ? `RSS ${s.rssMb.toFixed(0)} MiB, peak ${s.hwmMb.toFixed(0)} MiB` : "exited";
};
try {
  const m = await main.waitForLog(/manifest mirrored held=(\d+) sealed=(\d+)/, 900_000);
  console.log(`${at()}: manifest mirrored, ${m[1]} entries held; ${await mem()}`);
  if (!IMPORT) {
    const s = await main.waitForLog(/manifest sealed settled days entries=(\d+) held=(\d+)/, 900_000);
    console.log(`${at()}: ${s[1]} entries sealed, ${s[2]} held; ${await mem()}`);
  }
  await new Promise((r) => setTimeout(r, 20_000));
  console.log(`${at()}: ${await mem()}`);
  console.log(`SIGTERM: exit ${(await main.stop("SIGTERM")).code}`);
} finally {
  if (main.running) await main.stop("SIGKILL");
  await sim.close();
  for (const d of [dataDir, remoteDir]) await Deno.remove(d, { recursive: true });
  await Deno.remove(configPath).catch(() => {});
}
