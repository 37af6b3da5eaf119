/**
 * Which chats the bot talks to: the configured ids and `@channel` names (`telegram_chat_id`). Updates from any
 * other chat are dropped before a command handler sees them, counted, and logged at a limited rate.
 * @module
 */

import { type Logger, RateLimitedLog } from "../log.ts";

/** The part of a Bot API chat the gate reads. */
export interface ChatRef {
  id: number;
  username?: string;
}

/**
 * The allowed chats.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "../log.ts";
 * const gate = new ChatGate(["-1001234567890", "@Alerts"], consoleLogger());
 * gate.key({ id: -1001234567890 }); // "-1001234567890"
 * gate.key({ id: -100999, username: "alerts" }); // "@Alerts"
 * gate.key({ id: 42 }); // null
 * ```
 */
export class ChatGate {
  /** Lower-case ids and `@names` → the configured spelling (usernames are case-insensitive). */
  readonly #allowed: Map<string, string>;
  readonly #strangers: RateLimitedLog;
  #ignored = 0;

  constructor(chatIds: readonly string[], log: Logger) {
    this.#allowed = new Map(chatIds.map((id) => [id.toLowerCase(), id]));
    this.#strangers = new RateLimitedLog(log);
  }

  /** Updates ignored so far (from chats that are not allowed, or from no chat). */
  get ignored(): number {
    return this.#ignored;
  }

  /** The configured id of the chat if it is allowed, else null. */
  key(chat: ChatRef | undefined): string | null {
    if (chat === undefined) return null;
    return this.#allowed.get(String(chat.id)) ??
      (chat.username === undefined ? undefined : this.#allowed.get(`@${chat.username.toLowerCase()}`)) ??
      null;
  }

  /** grammY middleware: updates from allowed chats go on to `next`, the others are counted and logged. */
  async admit(ctx: { readonly chat?: ChatRef }, next: () => Promise<void>): Promise<void> {
    if (this.key(ctx.chat) !== null) return await next();
    this.#ignored++;
    this.#strangers.write("warn", "Telegram message from a chat not in telegram_chat_id ignored", {
      chat: ctx.chat?.id ?? "none",
      ignored: this.#ignored,
    });
  }
}
