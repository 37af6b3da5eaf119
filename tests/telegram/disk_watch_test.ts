import assert from "node:assert/strict";
import { MIB } from "../../lib/disk.ts";
import type { Logger } from "../../lib/log.ts";
import type { Alert } from "../../lib/telegram/alerts.ts";
import { DiskWatch } from "../../lib/telegram/disk_watch.ts";

const SETTINGS = { dataDir: "/srv/data", diskLowMb: 5120, diskMinMb: 512 };

function watch(freeBytes: () => number) {
  const lines: string[] = [];
  const log: Logger = (level, message) => lines.push(`${level} ${message}`);
  const alerts: Alert[] = [];
  const sources = {
    diskSpace: () => Promise.resolve({ freeBytes: freeBytes(), totalBytes: 100 * 1024 * MIB }),
  };
  return { disk: new DiskWatch(sources, SETTINGS, log, (a) => alerts.push(a)), alerts, lines };
}

Deno.test("DiskWatch.check() alerts below disk_low_mb only, with the thresholds in bytes", async () => {
  let free = 6000 * MIB;
  const { disk, alerts } = watch(() => free);
  await disk.check();
  assert.deepEqual(alerts, []);
  free = 1000 * MIB;
  await disk.check();
  assert.deepEqual(alerts, [
    { kind: "disk", dir: "/srv/data", freeBytes: 1000 * MIB, lowBytes: 5120 * MIB, minBytes: 512 * MIB },
  ]);
});

Deno.test("DiskWatch.check() never throws: a failing check is logged once an hour", async () => {
  const { disk, alerts, lines } = watch(() => {
    throw new Error("EIO");
  });
  await disk.check();
  await disk.check();
  assert.deepEqual(alerts, []);
  assert.deepEqual(lines, ["warn disk space check failed"]);
});
