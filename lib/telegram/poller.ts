/**
 * Long polling with `getUpdates` that stops cleanly: one abort ends the pending poll and any backoff at once
 * (grammY's `bot.start()` sleeps through its retry delays and makes a confirming call that can hang while
 * Telegram is down). Updates are handled one at a time; the offset of the last batch is confirmed on stop so a
 * restart does not answer the same commands again.
 * @module
 */

import type { Logger } from "../log.ts";
import { classifyFailure, describeFailure } from "./api_errors.ts";

/** Options of {@linkcode Poller}. */
export interface PollerOptions<U extends { update_id: number }> {
  /** Runs before the first poll (e.g. `getMe`); a failure is retried like a failed poll. */
  init(signal: AbortSignal): Promise<void>;
  /** `getUpdates` with these parameters. */
  getUpdates(params: { offset: number; timeout: number; limit?: number }, signal: AbortSignal): Promise<U[]>;
  /** Handles one update; a throw is logged and the update skipped. */
  handle(update: U): Promise<void>;
  log: Logger;
  /** Long-poll timeout in seconds. @default 30 */
  timeoutSec?: number;
  /** First wait after a failed poll; doubles up to `maxBackoffMs`. @default 1000 */
  backoffMs?: number;
  /** @default 60000 */
  maxBackoffMs?: number;
}

const CONFIRM_TIMEOUT_MS = 2000;

/**
 * Polls until {@linkcode Poller.stop}.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "../log.ts";
 *
 * type Update = { update_id: number; text: string };
 * const updates: Update[] = [{ update_id: 1, text: "/status" }, { update_id: 2, text: "/gaps" }];
 * const handled: string[] = [];
 * const poller = new Poller<Update>({
 *   init: () => Promise.resolve(), // the bot: (signal) => bot.api.getMe(signal)
 *   // The bot: (p, signal) => bot.api.getUpdates(p, signal), a long poll; here a poll with nothing new waits
 *   // until it is aborted.
 *   getUpdates: (p, signal) => {
 *     const batch = updates.filter((u) => u.update_id >= p.offset);
 *     if (batch.length > 0 || p.timeout === 0) return Promise.resolve(batch);
 *     return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
 *   },
 *   handle: (u) => Promise.resolve(void handled.push(u.text)),
 *   log: consoleLogger(),
 * });
 * poller.start();
 * while (handled.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
 * await poller.stop(); // and confirms the last batch (offset 3)
 * handled; // ["/status", "/gaps"]
 * ```
 */
export class Poller<U extends { update_id: number }> {
  readonly #options: PollerOptions<U>;
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;
  #offset = 0;
  /** The last batch was handled but no later `getUpdates` has confirmed it. */
  #unconfirmed = false;
  /** Updates handled so far. */
  handled = 0;

  constructor(options: PollerOptions<U>) {
    this.#options = options;
  }

  /** Starts polling (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Ends the pending poll, waits for the update being handled, and confirms the last batch (best effort). */
  async stop(): Promise<void> {
    if (this.#loop === null || this.#abort.signal.aborted) return;
    this.#abort.abort();
    await this.#loop;
    if (!this.#unconfirmed) return;
    const confirm = new AbortController();
    const timer = setTimeout(() => confirm.abort(), CONFIRM_TIMEOUT_MS);
    try {
      await this.#options.getUpdates({ offset: this.#offset, timeout: 0, limit: 1 }, confirm.signal);
    } catch {
      // Unconfirmed updates come again after a restart; nothing is lost.
    } finally {
      clearTimeout(timer);
    }
  }

  async #run(): Promise<void> {
    const { log, timeoutSec = 30, maxBackoffMs = 60_000 } = this.#options;
    const signal = this.#abort.signal;
    const initialBackoff = this.#options.backoffMs ?? 1000;
    let backoff = initialBackoff;
    let ready = false;
    let failing = false;
    while (!signal.aborted) {
      try {
        if (!ready) {
          await this.#options.init(signal);
          ready = true;
        }
        const updates = await this.#options.getUpdates({ offset: this.#offset, timeout: timeoutSec }, signal);
        if (failing) log("info", "Telegram polling works again");
        failing = false;
        backoff = initialBackoff;
        this.#unconfirmed = updates.length > 0;
        for (const update of updates) {
          this.#offset = update.update_id + 1;
          this.handled++;
          try {
            await this.#options.handle(update);
          } catch (err) {
            log("warn", "Telegram update not handled", { update: update.update_id, error: String(err) });
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        const verdict = classifyFailure(err);
        if (verdict.action === "badToken") {
          log("error", "Telegram rejected the bot token; chat commands are off", {
            error: describeFailure(err),
          });
          return;
        }
        if (!failing) log("warn", "Telegram polling failed; retrying", { error: describeFailure(err) });
        failing = true;
        await abortableSleep(
          verdict.action === "retry" && verdict.afterMs !== null ? verdict.afterMs : backoff,
          signal,
        );
        backoff = Math.min(maxBackoffMs, backoff * 2);
      }
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
