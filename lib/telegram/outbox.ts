/**
 * Per-chat message queues with pacing (pure; time is passed in): at most one message per chat per
 * `minIntervalMs` (Telegram allows about one per second per chat), a bounded queue per chat that drops its
 * oldest messages and says so in the next one, and merging of waiting alerts into one message so that a
 * backlog (after an outage) drains in a few messages rather than one per second. Replies to commands go
 * before alerts and are never merged. A tagged message (the ticker) replaces a queued one of its tag: after an
 * outage only the latest ticker goes out. A tracked message (the daily report) is never merged, and whoever
 * queued it learns whether Telegram took it.
 * @module
 */

import { MAX_MESSAGE_CHARS } from "./html.ts";

/** Options of {@linkcode Outbox}. */
export interface OutboxOptions {
  /** Least time between two messages to one chat. @default 1000 */
  minIntervalMs?: number;
  /** Messages a chat's queue holds; beyond it the oldest are dropped. @default 100 */
  capacity?: number;
  /** Longest merged message. @default 4096 */
  maxChars?: number;
}

/** A tracked message that Telegram did not take. */
export class NotDeliveredError extends Error {
  constructor(readonly chatId: string, reason: string, options?: ErrorOptions) {
    super(`Telegram message to chat ${chatId} not delivered: ${reason}`, options);
    this.name = "NotDeliveredError";
  }
}

/** Told how a tracked message ended: `null` once Telegram took it, else why it was not sent. */
export type Settle = (error: NotDeliveredError | null) => void;

/** Options of {@linkcode Outbox.push}. */
export interface PushOptions {
  /** A reply to a command: goes before every alert, never merged. */
  reply?: boolean;
  /** Replaces the queued message with this tag, if any (e.g. `"ticker"`). */
  tag?: string;
  /** Tracks the message: never merged, and `settle` is called when it was sent or given up. */
  settle?: Settle;
}

/** A message to send now. */
export interface Outgoing {
  chatId: string;
  text: string;
  /** Queued messages it carries (merged alerts). */
  parts: number;
  reply: boolean;
  /** Present on a tracked message: the sender calls it with the outcome. */
  settle?: Settle;
  tag?: string;
}

interface Queued {
  text: string;
  reply: boolean;
  parts: number;
  settle?: Settle;
  tag?: string;
}

interface ChatQueue {
  items: Queued[];
  /** When the chat's last message was taken or its call ended, whichever is later. */
  lastMs: number;
  /** Dropped since the last message taken for this chat. */
  dropped: number;
}

const SEPARATOR = "\n\n";

/**
 * The queues of all chats.
 *
 * @example
 * ```ts
 * const box = new Outbox({ minIntervalMs: 1000 });
 * box.push("42", "disk low");
 * box.take(0); // { chatId: "42", text: "disk low", parts: 1, reply: false }
 * box.push("42", "gap");
 * box.take(10); // null: one message per second
 * box.nextReadyMs(); // 1000
 * ```
 */
export class Outbox {
  readonly #minIntervalMs: number;
  readonly #capacity: number;
  readonly #maxChars: number;
  readonly #chats = new Map<string, ChatQueue>();
  /** Messages dropped because a queue was full, since construction. */
  dropped = 0;

  constructor(options: OutboxOptions = {}) {
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
    this.#capacity = options.capacity ?? 100;
    this.#maxChars = options.maxChars ?? MAX_MESSAGE_CHARS;
    if (!(this.#capacity >= 1)) {
      throw new RangeError(
        `Cannot create outbox: 'capacity' must be at least 1: current value is ${this.#capacity}`,
      );
    }
  }

  /** Queues `text` for `chatId`; a reply goes after earlier replies but before every alert. */
  push(chatId: string, text: string, options: PushOptions = {}): void {
    const q = this.#queue(chatId);
    const item: Queued = { text, reply: options.reply ?? false, parts: 1 };
    if (options.settle) item.settle = options.settle;
    if (options.tag !== undefined) {
      item.tag = options.tag;
      q.items = q.items.filter((i) => i.tag !== options.tag);
    }
    if (item.reply) {
      const at = q.items.findIndex((i) => !i.reply);
      q.items.splice(at === -1 ? q.items.length : at, 0, item);
    } else {
      q.items.push(item);
    }
    while (q.items.length > this.#capacity) {
      q.items.shift()!.settle?.(new NotDeliveredError(chatId, "dropped from a full queue"));
      q.dropped++;
      this.dropped++;
    }
  }

  /**
   * The next message that may go now, chats taken in turn; null when none may. Waiting alerts at the head of a
   * chat's queue are merged up to `maxChars`. The chat's pacing starts now (and again at {@linkcode done}).
   */
  take(nowMs: number): Outgoing | null {
    for (const [chatId, q] of this.#chats) {
      if (q.items.length === 0 || nowMs < q.lastMs + this.#minIntervalMs) continue;
      // Round robin: the chat moves to the end of the iteration order.
      this.#chats.delete(chatId);
      this.#chats.set(chatId, q);
      q.lastMs = nowMs;
      const head = q.items.shift()!;
      let text = head.text;
      let parts = head.parts;
      if (q.dropped > 0) {
        text = `⚠️ ${q.dropped} older message${
          q.dropped === 1 ? "" : "s"
        } dropped (queue full)${SEPARATOR}${text}`;
        q.dropped = 0;
      }
      if (!head.reply && !head.settle) {
        while (q.items.length > 0) {
          const next = q.items[0]!;
          if (next.reply || next.settle) break;
          if (text.length + SEPARATOR.length + next.text.length > this.#maxChars) break;
          text += SEPARATOR + next.text;
          parts += next.parts;
          q.items.shift();
        }
      }
      const out: Outgoing = { chatId, text, parts, reply: head.reply };
      if (head.settle) out.settle = head.settle;
      if (head.tag !== undefined && parts === 1) out.tag = head.tag;
      return out;
    }
    return null;
  }

  /**
   * Restarts a chat's pacing when the call for its message has ended: Telegram counts messages when they
   * arrive, which is some time after they were taken, so pacing from the end keeps arrivals apart.
   */
  done(chatId: string, nowMs: number): void {
    const q = this.#chats.get(chatId);
    if (q !== undefined && nowMs > q.lastMs) q.lastMs = nowMs;
  }

  /** Puts a message whose sending failed back at the head of its chat's queue. */
  putBack(message: Outgoing): void {
    const item: Queued = { text: message.text, reply: message.reply, parts: message.parts };
    if (message.settle) item.settle = message.settle;
    if (message.tag !== undefined) item.tag = message.tag;
    const q = this.#queue(message.chatId);
    // A newer message of the tag queued meanwhile supersedes this one.
    if (item.tag !== undefined && q.items.some((i) => i.tag === item.tag)) return;
    q.items.unshift(item);
  }

  /** Empties every queue, settling tracked messages with `errorFor(chat)`; returns how many were dropped. */
  clear(errorFor: (chatId: string) => NotDeliveredError): number {
    let n = 0;
    for (const [chatId, q] of this.#chats) {
      for (const item of q.items) item.settle?.(errorFor(chatId));
      n += q.items.length;
      q.items = [];
    }
    return n;
  }

  /** When {@linkcode take} may next return a message, or null when every queue is empty. */
  nextReadyMs(): number | null {
    let next: number | null = null;
    for (const q of this.#chats.values()) {
      if (q.items.length === 0) continue;
      const at = q.lastMs + this.#minIntervalMs;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Messages waiting, over all chats (merged ones count as one). */
  get size(): number {
    let n = 0;
    for (const q of this.#chats.values()) n += q.items.length;
    return n;
  }

  #queue(chatId: string): ChatQueue {
    let q = this.#chats.get(chatId);
    if (q === undefined) {
      q = { items: [], lastMs: -Infinity, dropped: 0 };
      this.#chats.set(chatId, q);
    }
    return q;
  }
}
