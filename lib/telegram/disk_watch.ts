/**
 * The disk alert's check: free space for the data every minute (`diskCheckMs`), and a `disk` alert while it is
 * below `disk_low_mb` (the alert coalescing keeps repeats to one an hour). A failing check is logged.
 * @module
 */

import { diskLevel, MIB } from "../disk.ts";
import { type Logger, RateLimitedLog } from "../log.ts";
import type { Alert } from "./alerts.ts";
import type { CommandSettings, TelegramSources } from "./commands.ts";

/**
 * Checks free disk space on a timer.
 *
 * @example
 * ```ts
 * import { diskSpace } from "../disk.ts";
 * import { consoleLogger } from "../log.ts";
 * import type { Alert } from "./alerts.ts";
 * const alerts: Alert[] = [];
 * const watch = new DiskWatch(
 *   { diskSpace: () => diskSpace(".") },
 *   { dataDir: ".", diskLowMb: 5120, diskMinMb: 512 },
 *   consoleLogger(),
 *   (alert) => alerts.push(alert),
 * );
 * await watch.check();
 * ```
 */
export class DiskWatch {
  readonly #sources: Pick<TelegramSources, "diskSpace">;
  readonly #settings: Pick<CommandSettings, "dataDir" | "diskLowMb" | "diskMinMb">;
  readonly #alert: (alert: Alert) => void;
  readonly #errors: RateLimitedLog;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    sources: Pick<TelegramSources, "diskSpace">,
    settings: Pick<CommandSettings, "dataDir" | "diskLowMb" | "diskMinMb">,
    log: Logger,
    alert: (alert: Alert) => void,
  ) {
    this.#sources = sources;
    this.#settings = settings;
    this.#alert = alert;
    // A check runs every minute: one line an hour is enough to say it keeps failing.
    this.#errors = new RateLimitedLog(log, 1, 3_600_000);
  }

  /** Checks every `everyMs` until {@linkcode DiskWatch.stop}; 0 = never. */
  start(everyMs: number): void {
    if (everyMs > 0) this.#timer = setInterval(() => void this.check(), everyMs);
  }

  /** Stops the timer; a check under way still finishes. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** One check: alerts when space is low; never throws. */
  async check(): Promise<void> {
    const settings = this.#settings;
    try {
      const space = await this.#sources.diskSpace();
      if (diskLevel(space.freeBytes, settings.diskLowMb, settings.diskMinMb) === "ok") return;
      this.#alert({
        kind: "disk",
        dir: settings.dataDir,
        freeBytes: space.freeBytes,
        lowBytes: settings.diskLowMb * MIB,
        minBytes: settings.diskMinMb * MIB,
      });
    } catch (err) {
      this.#errors.write("warn", "disk space check failed", { dir: settings.dataDir, error: String(err) });
    }
  }
}
