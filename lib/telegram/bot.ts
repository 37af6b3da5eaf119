/**
 * The Telegram shell: a grammY `Bot` (API root from the config, auto-retry on 429), long polling for chat
 * commands from the allowed chats only, and alert delivery that never blocks the collector.
 *
 * `startTelegram()` is the entry point; main.ts passes the token it read from `TELEGRAM_BOT_TOKEN`.
 * @module
 */

import { autoRetry } from "@grammyjs/auto-retry";
import { Bot, type Context, InputFile } from "grammy";
import type { Update } from "grammy/types";
import type { CoveragePicture } from "../charts/coverage_picture.ts";
import { diskLevel, MIB } from "../disk.ts";
import { type Logger, RateLimitedLog } from "../log.ts";
import type { Alert, CoalesceOptions } from "./alerts.ts";
import { classifyFailure, describeFailure } from "./api_errors.ts";
import { answerCommand, answerPicture, type CommandSettings, type TelegramSources } from "./commands.ts";
import { Delivery, type DeliveryStats, NotDeliveredError } from "./delivery.ts";
import { COMMANDS } from "./format.ts";
import { escapeHtml, preText } from "./html.ts";
import type { OutboxOptions } from "./outbox.ts";
import { Poller } from "./poller.ts";

/** Options of {@linkcode startTelegram}. */
export interface TelegramOptions {
  /** The bot token (main.ts reads `TELEGRAM_BOT_TOKEN`); undefined or empty turns Telegram off. */
  token: string | undefined;
  /** Allowed chats (`telegram_chat_id`): ids, or `@channel` names. Alerts go to all of them. */
  chatIds: readonly string[];
  /** `telegram.api_root`, no trailing slash. */
  apiRoot: string;
  log: Logger;
  sources: TelegramSources;
  settings: CommandSettings;
  /** How often free disk space is checked for the disk alert; 0 = never. @default 60000 */
  diskCheckMs?: number;
  /** Long-poll timeout of `getUpdates`, seconds. @default 30 */
  pollTimeoutSec?: number;
  /** Wall clock (ms). @default Date.now */
  nowMs?: () => number;
  coalesce?: CoalesceOptions;
  outbox?: OutboxOptions;
  /** First wait after a failed call (doubles up to 60 s). @default 1000 */
  backoffMs?: number;
}

/** Counters for status and tests. */
export interface TelegramStats extends DeliveryStats {
  /** Updates received from chats that are not allowed (ignored). */
  ignored: number;
  /** Updates received. */
  updates: number;
  /** Pictures Telegram took (`sendPhoto`). */
  pictures: number;
}

/**
 * grammY's npm build hands `fetch` an AbortSignal from a polyfill, which Deno's `fetch` rejects; this passes
 * a native one that follows it. A file upload's multipart body comes as a Node stream, whose chunks Deno's
 * `fetch` detaches while the stream still holds them ("Cannot perform Construct on a detached ArrayBuffer"):
 * it is read into a Blob first (a picture is a few hundred KiB).
 */
const nativeFetch =
  (async (input: string | URL | Request, init?: RequestInit & { signal?: AbortSignal | null }) => {
    const body: unknown = init?.body;
    if (body !== null && typeof body === "object" && Symbol.asyncIterator in body) {
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      for await (const c of body as AsyncIterable<string | Uint8Array>) {
        chunks.push(typeof c === "string" ? new TextEncoder().encode(c) : new Uint8Array(c));
      }
      init = { ...init, body: new Blob(chunks) };
    }
    const outer = init?.signal;
    if (!outer) return fetch(input, init);
    const inner = new AbortController();
    if (outer.aborted) inner.abort();
    else outer.addEventListener("abort", () => inner.abort(), { once: true });
    return fetch(input, { ...init, signal: inner.signal });
  }) as unknown as typeof fetch;

/** grammY's npm typings name the `abort-controller` polyfill's AbortSignal; at run time any signal works. */
type ApiSignal = Parameters<Bot["api"]["getMe"]>[0];
const apiSignal = (signal: AbortSignal) => signal as unknown as ApiSignal;

/**
 * A running bot. {@linkcode TelegramBot.sendAlert} is what the collector calls.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "../log.ts";
 * import type { CommandSettings, TelegramSources } from "./commands.ts";
 *
 * // Talks to the Telegram Bot API, so this example defines the calls without making them. Without a token,
 * // startTelegram logs "Telegram off" and returns null, and every call below does nothing.
 * async function run(sources: TelegramSources, settings: CommandSettings, err: unknown): Promise<void> {
 *   const telegram = startTelegram({
 *     token: Deno.env.get("TELEGRAM_BOT_TOKEN"),
 *     chatIds: ["-1001234567890"], // telegram_chat_id
 *     apiRoot: "https://api.telegram.org", // telegram.api_root
 *     log: consoleLogger(),
 *     sources,
 *     settings,
 *   });
 *   telegram?.sendAlert({ kind: "flush_failed", error: String(err) });
 *   await telegram?.stop();
 * }
 * ```
 */
export class TelegramBot {
  readonly #options: TelegramOptions;
  readonly #bot: Bot;
  readonly #delivery: Delivery;
  readonly #poller: Poller<Update>;
  readonly #allowed: Map<string, string>;
  readonly #strangers: RateLimitedLog;
  readonly #diskErrors: RateLimitedLog;
  readonly #now: () => number;
  #diskTimer: ReturnType<typeof setInterval> | undefined;
  #ignored = 0;
  #picturesSent = 0;
  /** Chats that took the report of a key (`deliverReport`), for the latest keys. */
  readonly #reportsDone = new Map<string, Set<string>>();

  /** Prefer {@linkcode startTelegram}, which also handles the missing token. */
  constructor(token: string, options: TelegramOptions) {
    this.#options = options;
    this.#now = options.nowMs ?? Date.now;
    const pollTimeoutSec = options.pollTimeoutSec ?? 30;
    // Usernames are case-insensitive; keys are lower case, values the configured spelling.
    this.#allowed = new Map(options.chatIds.map((id) => [id.toLowerCase(), id]));
    this.#strangers = new RateLimitedLog(options.log);
    // A check runs every minute: one line an hour is enough to say it keeps failing.
    this.#diskErrors = new RateLimitedLog(options.log, 1, 3_600_000);
    this.#bot = new Bot(token, {
      client: { apiRoot: options.apiRoot, fetch: nativeFetch, timeoutSeconds: pollTimeoutSec + 30 },
    });
    // 429 waits up to a minute are taken here; longer ones, network errors and 5xx go back to our loops, whose
    // waits a stop can cut short.
    this.#bot.api.config.use(
      autoRetry({
        maxDelaySeconds: 60,
        maxRetryAttempts: 3,
        rethrowHttpErrors: true,
        rethrowInternalServerErrors: true,
      }),
    );
    this.#bot.use((ctx, next) => this.#admit(ctx, next));
    for (const { command } of COMMANDS) this.#bot.command(command, (ctx) => this.#answer(ctx, command));
    this.#bot.command("start", (ctx) => this.#answer(ctx, "start"));
    this.#bot.on("message", (ctx) => this.#fallback(ctx));

    this.#delivery = new Delivery({
      chatIds: options.chatIds,
      log: options.log,
      nowMs: this.#now,
      coalesce: options.coalesce,
      outbox: options.outbox,
      backoffMs: options.backoffMs,
      send: async (chatId, text, signal) => {
        await this.#bot.api.sendMessage(
          /^-?\d+$/.test(chatId) ? Number(chatId) : chatId,
          text,
          { parse_mode: "HTML", link_preview_options: { is_disabled: true } },
          apiSignal(signal),
        );
      },
    });
    this.#poller = new Poller<Update>({
      log: options.log,
      timeoutSec: pollTimeoutSec,
      backoffMs: options.backoffMs,
      init: async (signal) => {
        this.#bot.botInfo = await this.#bot.api.getMe(apiSignal(signal));
        // The command menu is a convenience: a failure must not hold up polling.
        await this.#bot.api.setMyCommands(
          COMMANDS.map(({ command, description }) => ({ command, description })),
          {},
          apiSignal(signal),
        ).catch((err) => options.log("debug", "Telegram setMyCommands failed", { error: String(err) }));
      },
      getUpdates: (params, signal) =>
        this.#bot.api.getUpdates(
          { ...params, allowed_updates: ["message", "channel_post"] },
          apiSignal(signal),
        ),
      handle: (update) => this.#bot.handleUpdate(update),
    });
  }

  /** Starts polling, delivery and the disk check. */
  start(): void {
    this.#delivery.start();
    this.#poller.start();
    const every = this.#options.diskCheckMs ?? 60_000;
    if (every > 0) this.#diskTimer = setInterval(() => void this.#checkDisk(), every);
  }

  /** Queues an alert for every allowed chat; returns at once, never throws. */
  sendAlert(alert: Alert): void {
    this.#delivery.alert(alert);
  }

  /**
   * Queues a message for every allowed chat, paced with the alerts; a message with `tag` replaces a queued one of
   * that tag (see `Outbox`). Returns at once, never throws.
   */
  post(text: string, tag?: string): void {
    this.#delivery.post(text, tag);
  }

  /**
   * Sends a report (plain text, shown monospace) to every allowed chat, then its picture when there is one
   * (`sendPhoto`), and resolves once Telegram took them in all chats. Chats that took the text or the picture
   * of `key` earlier are not sent that part again, so a retry after a partial failure sends nothing twice.
   * Rejects with `NotDeliveredError` when a chat did not take a part; the caller retries. A picture Telegram
   * refuses for good (a bad request) is logged and counts as done: the text is the report.
   */
  async deliverReport(key: string, text: string, picture?: CoveragePicture | null): Promise<void> {
    let done = this.#reportsDone.get(key);
    if (done === undefined) {
      this.#reportsDone.set(key, done = new Set());
      // A few recent keys are enough to cover the retries of a day's report.
      for (const old of this.#reportsDone.keys()) {
        if (this.#reportsDone.size <= 8) break;
        this.#reportsDone.delete(old);
      }
    }
    const html = preText(text);
    const results = await Promise.allSettled(
      this.#options.chatIds.map(async (chat) => {
        if (!done.has(chat)) {
          await this.#delivery.deliver(chat, html);
          done.add(chat);
        }
        const photoKey = `${chat}\u0000picture`;
        if (picture && !done.has(photoKey)) {
          await this.#sendPicture(chat, picture);
          done.add(photoKey);
        }
      }),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /**
   * Sends a picture to one chat now (outside the paced queue: pictures are rare, and auto-retry waits out a 429).
   * Resolves when Telegram took it or refused it for good (logged); rejects with `NotDeliveredError` otherwise.
   */
  async #sendPicture(chat: string, picture: CoveragePicture): Promise<void> {
    try {
      await this.#bot.api.sendPhoto(
        /^-?\d+$/.test(chat) ? Number(chat) : chat,
        new InputFile(picture.png, picture.filename),
        { caption: picture.caption },
        apiSignal(AbortSignal.timeout(60_000)),
      );
      this.#picturesSent++;
    } catch (err) {
      if (classifyFailure(err).action === "drop") {
        this.#options.log("warn", "Telegram refused a picture", { chat, error: describeFailure(err) });
        return;
      }
      throw new NotDeliveredError(chat, describeFailure(err), { cause: err });
    }
  }

  /** Stops polling and the disk check, sends what is pending for up to `drainMs`, then gives up on the rest. */
  async stop(drainMs = 3000): Promise<void> {
    clearInterval(this.#diskTimer);
    await Promise.all([this.#poller.stop(), this.#delivery.stop(drainMs)]);
  }

  /** Counters so far. */
  get stats(): TelegramStats {
    return {
      ...this.#delivery.stats,
      ignored: this.#ignored,
      updates: this.#poller.handled,
      pictures: this.#picturesSent,
    };
  }

  /** The configured id of the chat if it is allowed, else null. */
  #chatKey(chat: { id: number; username?: string } | undefined): string | null {
    if (chat === undefined) return null;
    return this.#allowed.get(String(chat.id)) ??
      (chat.username === undefined ? undefined : this.#allowed.get(`@${chat.username.toLowerCase()}`)) ??
      null;
  }

  async #admit(ctx: Context, next: () => Promise<void>): Promise<void> {
    if (this.#chatKey(ctx.chat) !== null) return await next();
    this.#ignored++;
    this.#strangers.write("warn", "Telegram message from a chat not in telegram_chat_id ignored", {
      chat: ctx.chat?.id ?? "none",
      ignored: this.#ignored,
    });
  }

  async #answer(ctx: Context, command: string): Promise<void> {
    const { sources, settings, log } = this.#options;
    const args = String(ctx.match ?? "");
    const nowMs = this.#now();
    let text: string;
    try {
      text = await answerCommand(command, args, sources, settings, nowMs);
    } catch (err) {
      log("warn", "Telegram command failed", { command, error: String(err) });
      text = `⚠️ /${command} failed: ${escapeHtml(String(err))}`;
    }
    const chat = this.#chatKey(ctx.chat);
    if (chat === null) return;
    if (command !== "coverage") return this.#reply(ctx, text);
    // Rendering and uploading a picture takes a moment: polling goes on meanwhile.
    void this.#replyWithPicture(chat, command, args, text, nowMs);
  }

  /** The text, then its picture (or the text alone when there is none). Never throws. */
  async #replyWithPicture(chat: string, command: string, args: string, text: string, nowMs: number) {
    const { sources, log } = this.#options;
    let picture: CoveragePicture | null = null;
    try {
      picture = await answerPicture(command, args, sources, nowMs);
    } catch (err) {
      log("warn", "Telegram picture failed", { command, error: String(err) });
    }
    if (picture === null) return this.#delivery.reply(chat, text);
    try {
      await this.#delivery.deliver(chat, text);
      await this.#sendPicture(chat, picture);
    } catch (err) {
      log("warn", "Telegram reply not delivered", { command, error: String(err) });
    }
  }

  /** Unknown commands get a hint; commands for other bots and group chatter get nothing. */
  #fallback(ctx: Context): void {
    const m = /^\/(\w+)(?:@(\w+))?/.exec(ctx.message?.text ?? "");
    if (m !== null) {
      if (m[2] === undefined || m[2].toLowerCase() === this.#bot.botInfo.username.toLowerCase()) {
        this.#reply(ctx, `Unknown command /${escapeHtml(m[1]!)}. /help lists the commands.`);
      }
    } else if (ctx.chat?.type === "private") {
      this.#reply(ctx, "Send /help for the commands.");
    }
  }

  #reply(ctx: Context, text: string): void {
    const key = this.#chatKey(ctx.chat);
    if (key !== null) this.#delivery.reply(key, text);
  }

  async #checkDisk(): Promise<void> {
    const { sources, settings } = this.#options;
    try {
      const space = await sources.diskSpace();
      if (diskLevel(space.freeBytes, settings.diskLowMb, settings.diskMinMb) === "ok") return;
      this.#delivery.alert({
        kind: "disk",
        dir: settings.dataDir,
        freeBytes: space.freeBytes,
        lowBytes: settings.diskLowMb * MIB,
        minBytes: settings.diskMinMb * MIB,
      });
    } catch (err) {
      this.#diskErrors.write("warn", "disk space check failed", {
        dir: settings.dataDir,
        error: String(err),
      });
    }
  }
}

/**
 * Starts the bot, or returns null and logs one line when no token is given.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "../log.ts";
 * import type { Config } from "../config.ts";
 * import type { CommandSettings, TelegramSources } from "./commands.ts";
 *
 * // Talks to the Telegram Bot API, so this example defines the start without running it (main.ts does this).
 * function start(config: Config, sources: TelegramSources, settings: CommandSettings): TelegramBot | null {
 *   return startTelegram({
 *     token: config.telegramToken?.reveal(), // TELEGRAM_BOT_TOKEN, or the file's (lib/config/telegram_token.ts)
 *     chatIds: config.telegramChatIds,
 *     apiRoot: config.telegram.apiRoot,
 *     log: consoleLogger(),
 *     sources,
 *     settings,
 *   });
 * }
 * ```
 */
export function startTelegram(options: TelegramOptions): TelegramBot | null {
  const token = options.token?.trim();
  if (!token) {
    options.log("info", "Telegram off: TELEGRAM_BOT_TOKEN not set");
    return null;
  }
  if (options.chatIds.length === 0) {
    options.log(
      "warn",
      "Telegram: no telegram_chat_id configured; alerts go nowhere and every chat is ignored",
    );
  }
  const bot = new TelegramBot(token, options);
  bot.start();
  return bot;
}
