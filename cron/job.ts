/**
 * The shell shared by the cron jobs: registration with `Deno.cron` (always with a `backoffSchedule`, since the
 * runtime docs disagree about default retries) and single-flight runs, so a start-up catch-up and a scheduled
 * tick of the same job never overlap.
 * @module
 */

import type { Logger } from "../lib/log.ts";

/** Options passed to `Deno.cron`. */
export interface CronOptions {
  /** Retry delays (ms) after a failed run; at most 5, each at most 1 hour. */
  backoffSchedule?: number[];
  signal?: AbortSignal;
}

/** The part of `Deno.cron` the jobs use; `Deno.cron` itself fits, tests pass a recorder. */
export type CronRegistrar = (
  name: string,
  schedule: string,
  options: CronOptions,
  handler: () => Promise<void>,
) => Promise<void>;

/** What defines a job: its `Deno.cron` name, UTC schedule, retry delays and the run itself. */
export interface JobSpec<R> {
  name: string;
  /** Five-field cron expression, UTC. */
  schedule: string;
  backoffSchedule: readonly number[];
  /** One idempotent run; `nowMs` is the wall clock when it starts. */
  run(nowMs: number): Promise<R>;
}

/** `Deno.cron`, with a clear error when the runtime was started without `--unstable-cron`. */
export const denoCron: CronRegistrar = (name, schedule, options, handler) => {
  if (typeof Deno.cron !== "function") {
    throw new TypeError(`Cannot register cron job '${name}': Deno.cron needs --unstable-cron`);
  }
  return Deno.cron(name, schedule, options, handler);
};

/**
 * A job that can be registered with `Deno.cron` and triggered directly.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "../lib/log.ts";
 *
 * let runs = 0;
 * const job = new CronJob({
 *   name: "example",
 *   schedule: "* * * * *",
 *   backoffSchedule: [5000],
 *   run: () => Promise.resolve(++runs),
 * }, consoleLogger());
 * const stop = new AbortController();
 * job.register(denoCron, stop.signal); // scheduled runs, until the signal aborts
 * await job.trigger(); // a start-up run: 1
 * stop.abort();
 * ```
 */
export class CronJob<R> {
  #running: Promise<R> | null = null;

  constructor(readonly spec: JobSpec<R>, private readonly log: Logger) {}

  /** The job's name. */
  get name(): string {
    return this.spec.name;
  }

  /** Runs the job now; while a run is in progress, returns that run's result instead of starting another. */
  trigger(nowMs: number = Date.now()): Promise<R> {
    this.#running ??= this.spec.run(nowMs).finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /**
   * Registers the job with `cron` (default `Deno.cron`) and returns it. A failed run is logged and rethrown, so
   * the runtime retries it on the backoff schedule. An invalid name or schedule throws here.
   */
  register(cron: CronRegistrar = denoCron, signal?: AbortSignal): this {
    const { name, schedule, backoffSchedule } = this.spec;
    const registered = cron(name, schedule, { backoffSchedule: [...backoffSchedule], signal }, async () => {
      try {
        await this.trigger(Date.now());
      } catch (err) {
        this.log("error", "cron job failed", { job: name, error: String(err) });
        throw err;
      }
    });
    // Settles only when `signal` aborts; a rejection then has no other listener.
    registered.catch((err) => this.log("error", "cron job stopped", { job: name, error: String(err) }));
    return this;
  }
}
