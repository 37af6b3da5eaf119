/**
 * Alert and reply delivery: the coalescer and the outbox driven by one send loop. The collector-facing side
 * ({@linkcode Delivery.alert}, {@linkcode Delivery.post}) only pushes into bounded, in-memory structures and
 * wakes the loop, so it never waits for Telegram and never throws; while Telegram is unreachable the loop retries
 * the head message with backoff and new alerts keep coalescing (bounded by keys) or queueing (bounded per chat).
 * A tracked message ({@linkcode Delivery.deliver}) is tried once: its caller learns the outcome and retries.
 * @module
 */

import type { Logger } from "../log.ts";
import type { Alert, CoalesceOptions } from "./alerts.ts";
import { AlertCoalescer } from "./alerts.ts";
import { classifyFailure, describeFailure } from "./api_errors.ts";
import { NotDeliveredError, Outbox, type OutboxOptions, type Outgoing } from "./outbox.ts";

export { NotDeliveredError };

/** Sends one HTML message; rejects with the API's error. */
export type SendFn = (chatId: string, text: string, signal: AbortSignal) => Promise<void>;

/** Options of {@linkcode Delivery}. */
export interface DeliveryOptions {
  /** Chats every alert goes to. */
  chatIds: readonly string[];
  send: SendFn;
  log: Logger;
  /** Wall clock (ms). @default Date.now */
  nowMs?: () => number;
  coalesce?: CoalesceOptions;
  outbox?: OutboxOptions;
  /** A send still running after this is abandoned and retried. @default 15000 */
  sendTimeoutMs?: number;
  /** First wait after a failed send; doubles up to `maxBackoffMs`. @default 1000 */
  backoffMs?: number;
  /** @default 60000 */
  maxBackoffMs?: number;
}

/** Counters for status and tests. */
export interface DeliveryStats {
  /** Messages Telegram accepted. */
  sent: number;
  /** Messages Telegram refused for good (bad request, bot not in the chat, bad token). */
  refused: number;
  /** Messages dropped because a chat's queue was full. */
  dropped: number;
  /** Messages waiting in the chats' queues (at most the outbox capacity per chat). */
  queued: number;
  /** Alerts held in coalescing groups (their memory is bounded by the number of keys, not by this count). */
  coalescing: number;
}

/**
 * Delivers alerts (coalesced, to every chat) and command replies, paced per chat.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "../log.ts";
 *
 * const sent: string[] = [];
 * const d = new Delivery({
 *   chatIds: ["42"],
 *   // The bot: (chat, text, signal) => bot.api.sendMessage(chat, text, { parse_mode: "HTML" }, signal)
 *   send: (_chat, text) => {
 *     sent.push(text);
 *     return Promise.resolve();
 *   },
 *   log: consoleLogger(),
 *   coalesce: { settleMs: 0 },
 * });
 * d.start();
 * d.alert({ kind: "flush_failed", error: "ENOSPC" }); // returns at once
 * await d.stop(3000); // sends what it can within 3 s
 * sent.length; // 1
 * ```
 */
export class Delivery {
  readonly #options: DeliveryOptions;
  readonly #now: () => number;
  readonly #coalescer: AlertCoalescer;
  readonly #outbox: Outbox;
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;
  #draining = false;
  #wake: (() => void) | null = null;
  #backoffMs: number;
  #downSinceMs: number | null = null;
  #sent = 0;
  #refused = 0;

  constructor(options: DeliveryOptions) {
    this.#options = options;
    this.#now = options.nowMs ?? Date.now;
    this.#coalescer = new AlertCoalescer(options.coalesce);
    this.#outbox = new Outbox(options.outbox);
    this.#backoffMs = options.backoffMs ?? 1000;
  }

  /** Queues an alert for every chat. Never blocks, never throws. */
  alert(alert: Alert): void {
    try {
      const now = this.#now();
      this.#coalescer.push(alert, now);
      this.#pump(now);
      // Even with nothing to send yet, the loop must recompute its sleep: the alert may be due sooner.
      this.#wake?.();
    } catch (err) {
      this.#options.log("error", "Telegram alert not queued", { kind: alert?.kind, error: String(err) });
    }
  }

  /** Queues a reply to one chat (ahead of its alerts). */
  reply(chatId: string, text: string): void {
    this.#outbox.push(chatId, text, { reply: true });
    this.#wake?.();
  }

  /**
   * Queues a message for every chat, behind their alerts and paced with them; one with `tag` replaces a queued
   * message of that tag (a newer ticker supersedes one not sent yet). Never blocks, never throws.
   */
  post(text: string, tag?: string): void {
    for (const chat of this.#options.chatIds) this.#outbox.push(chat, text, { tag });
    this.#wake?.();
  }

  /**
   * Sends `text` to one chat in turn with the other messages, and resolves once Telegram took it. Tried once:
   * a failure (Telegram down, refused, queue full, shutdown) rejects with {@linkcode NotDeliveredError} and the
   * caller decides when to try again.
   */
  deliver(chatId: string, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#abort.signal.aborted) {
        reject(new NotDeliveredError(chatId, "Telegram delivery is stopped"));
        return;
      }
      this.#outbox.push(chatId, text, {
        settle: (err) => err === null ? resolve() : reject(err),
      });
      this.#wake?.();
    });
  }

  /** Starts the send loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Sends what is pending, coalescing windows cut short, for up to `drainMs`, then stops the loop and abandons
   * the rest (logged).
   */
  async stop(drainMs = 3000): Promise<void> {
    if (this.#loop === null || this.#abort.signal.aborted) return;
    this.#draining = true;
    this.#wake?.();
    const deadline = setTimeout(() => this.#abort.abort(), drainMs);
    try {
      await this.#loop;
    } finally {
      clearTimeout(deadline);
      this.#abort.abort();
    }
    const left = this.#coalescer.pending +
      this.#outbox.clear((chat) => new NotDeliveredError(chat, "the collector stopped before it was sent"));
    if (left > 0) this.#options.log("warn", "Telegram messages not sent at shutdown", { count: left });
  }

  /** Counters so far. */
  get stats(): DeliveryStats {
    return {
      sent: this.#sent,
      refused: this.#refused,
      dropped: this.#outbox.dropped,
      queued: this.#outbox.size,
      coalescing: this.#coalescer.pending,
    };
  }

  /** Moves due (or, when draining, all) coalesced messages into every chat's queue. */
  #pump(now: number): void {
    const texts = this.#draining ? this.#coalescer.drain(now) : this.#coalescer.due(now);
    for (const text of texts) for (const chat of this.#options.chatIds) this.#outbox.push(chat, text);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const now = this.#now();
      this.#pump(now);
      const message = this.#outbox.take(now);
      if (message !== null) {
        await this.#deliver(message, signal);
        continue;
      }
      if (this.#draining && this.#outbox.size === 0 && this.#coalescer.pending === 0) return;
      const due = this.#coalescer.nextDueMs();
      const ready = this.#outbox.nextReadyMs();
      const next = Math.min(due ?? Infinity, ready ?? Infinity);
      await this.#sleep(Math.max(0, next - now), signal, true);
    }
  }

  async #deliver(message: Outgoing, signal: AbortSignal): Promise<void> {
    const log = this.#options.log;
    try {
      await this.#sendOnce(message, signal);
      this.#sent++;
      message.settle?.(null);
      this.#backoffMs = this.#options.backoffMs ?? 1000;
      if (this.#downSinceMs !== null) {
        log("info", "Telegram reachable again", {
          downS: Math.round((this.#now() - this.#downSinceMs) / 1000),
          waiting: this.#outbox.size,
        });
        this.#downSinceMs = null;
      }
    } catch (err) {
      const failed = (why: string) =>
        message.settle?.(new NotDeliveredError(message.chatId, why, { cause: err }));
      if (signal.aborted) {
        if (message.settle) failed("the collector stopped while it was being sent");
        else this.#outbox.putBack(message);
        return;
      }
      const verdict = classifyFailure(err);
      if (verdict.action !== "retry") {
        this.#refused++;
        failed(describeFailure(err));
        log(verdict.action === "badToken" ? "error" : "warn", "Telegram refused a message", {
          chat: message.chatId,
          error: describeFailure(err),
        });
        return;
      }
      // A tracked message is not retried here: its caller retries later (the daily report's cron backoff).
      if (message.settle) failed(describeFailure(err));
      else this.#outbox.putBack(message);
      if (this.#downSinceMs === null) {
        this.#downSinceMs = this.#now();
        log("warn", "Telegram unreachable; alerts wait in a bounded queue", { error: describeFailure(err) });
      }
      const wait = verdict.afterMs ?? this.#backoffMs;
      this.#backoffMs = Math.min(this.#options.maxBackoffMs ?? 60_000, this.#backoffMs * 2);
      // New alerts must not cut a backoff short: that would hammer a server that is down.
      await this.#sleep(wait, signal, false);
    }
  }

  async #sendOnce(message: Outgoing, signal: AbortSignal): Promise<void> {
    const call = new AbortController();
    const abort = () => call.abort();
    signal.addEventListener("abort", abort);
    const timer = setTimeout(abort, this.#options.sendTimeoutMs ?? 15_000);
    try {
      await this.#options.send(message.chatId, message.text, call.signal);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", abort);
      this.#outbox.done(message.chatId, this.#now());
    }
  }

  /** Waits `ms` (Infinity = until woken), or until aborted; `wakeable` sleeps also end on new work. */
  #sleep(ms: number, signal: AbortSignal, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, Math.max(0, ms)) : undefined;
      signal.addEventListener("abort", done);
      if (signal.aborted) done();
      else if (wakeable) this.#wake = done;
    });
  }
}
