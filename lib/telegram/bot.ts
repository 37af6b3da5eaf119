/**
 * The Telegram shell: a grammY `Bot` (`bot_api.ts`: API root from the config, auto-retry on 429), long polling
 * for chat commands from the allowed chats only (`chat_gate.ts`), alert delivery that never blocks the
 * collector, and the disk alert's check (`disk_watch.ts`).
 *
 * `startTelegram()` is the entry point; main.ts passes the token it read from `TELEGRAM_BOT_TOKEN`.
 * @module
 */

import { type Bot, type Context, InputFile } from "grammy";
import type { Update } from "grammy/types";
import type { CoveragePicture } from "../charts/coverage_picture.ts";
import type { Logger } from "../log.ts";
import type { Alert, CoalesceOptions } from "./alerts.ts";
import { classifyFailure, describeFailure } from "./api_errors.ts";
import { apiSignal, chatTarget, createBot } from "./bot_api.ts";
import { ChatGate } from "./chat_gate.ts";
import { answerCommand, answerPicture, type CommandSettings, type TelegramSources } from "./commands.ts";
import { Delivery, type DeliveryStats, NotDeliveredError } from "./delivery.ts";
import { DiskWatch } from "./disk_watch.ts";
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
  readonly #chats: ChatGate;
  readonly #disk: DiskWatch;
  readonly #now: () => number;
  #picturesSent = 0;
  /** Chats that took the report of a key (`deliverReport`), for the latest keys. */
  readonly #reportsDone = new Map<string, Set<string>>();

  /** Prefer {@linkcode startTelegram}, which also handles the missing token. */
  constructor(token: string, options: TelegramOptions) {
    this.#options = options;
    this.#now = options.nowMs ?? Date.now;
    const pollTimeoutSec = options.pollTimeoutSec ?? 30;
    this.#chats = new ChatGate(options.chatIds, options.log);
    this.#bot = createBot(token, options.apiRoot, pollTimeoutSec + 30);
    this.#bot.use((ctx, next) => this.#chats.admit(ctx, next));
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
          chatTarget(chatId),
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
    this.#disk = new DiskWatch(
      options.sources,
      options.settings,
      options.log,
      (alert) => this.#delivery.alert(alert),
    );
  }

  /** Starts polling, delivery and the disk check. */
  start(): void {
    this.#delivery.start();
    this.#poller.start();
    this.#disk.start(this.#options.diskCheckMs ?? 60_000);
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
        chatTarget(chat),
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
    this.#disk.stop();
    await Promise.all([this.#poller.stop(), this.#delivery.stop(drainMs)]);
  }

  /** Counters so far. */
  get stats(): TelegramStats {
    return {
      ...this.#delivery.stats,
      ignored: this.#chats.ignored,
      updates: this.#poller.handled,
      pictures: this.#picturesSent,
    };
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
    const chat = this.#chats.key(ctx.chat);
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
    const key = this.#chats.key(ctx.chat);
    if (key !== null) this.#delivery.reply(key, text);
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
