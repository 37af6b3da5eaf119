/**
 * Minimal structured logging: one line per event, `time level message key=value…`, to stderr and, in the
 * service, the same line to the day's log file (lib/log_file.ts).
 * A {@link RateLimitedLog} keeps a noisy source (garbage frames, failed requests) to a few lines per minute
 * while counting what it suppressed.
 */

/** Log severity. */
export type Level = "debug" | "info" | "warn" | "error";

/** A logger: a function of level, message and optional fields. */
export type Logger = (level: Level, message: string, fields?: Record<string, unknown>) => void;

function format(level: Level, message: string, fields?: Record<string, unknown>): string {
  let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      line += ` ${k}=${typeof v === "string" ? JSON.stringify(v) : String(v)}`;
    }
  }
  return line;
}

/** Somewhere else a log line goes, e.g. a {@link import("./log_file.ts").DailyLogFile}. */
export interface LineSink {
  write(line: string): void;
}

/** A logger writing to stderr and to `also` (if given); debug lines only with `debug`. */
export function consoleLogger(options: { debug?: boolean; also?: LineSink } = {}): Logger {
  return (level, message, fields) => {
    if (level === "debug" && !options.debug) return;
    const line = format(level, message, fields);
    console.error(line);
    options.also?.write(line);
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = () => {};

/** Lets at most `perWindow` lines through per window, then reports how many were suppressed. */
export class RateLimitedLog {
  private windowStartMs = -Infinity;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly perWindow = 5,
    private readonly windowMs = 60_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Logs unless the window's budget is spent. */
  write(level: Level, message: string, fields?: Record<string, unknown>): void {
    const now = this.nowMs();
    if (now - this.windowStartMs >= this.windowMs) {
      if (this.suppressed > 0) {
        this.log("warn", "similar messages suppressed", { count: this.suppressed, last: message });
      }
      this.windowStartMs = now;
      this.inWindow = 0;
      this.suppressed = 0;
    }
    if (this.inWindow < this.perWindow) {
      this.inWindow++;
      this.log(level, message, fields);
    } else {
      this.suppressed++;
    }
  }
}
