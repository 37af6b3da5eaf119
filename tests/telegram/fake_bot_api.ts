/**
 * A fake Telegram Bot API on loopback (`Deno.serve({ port: 0 })`) at `/bot<token>/<method>`: records every
 * call, every `sendMessage` and every `sendPhoto` (multipart upload, the file's bytes kept), serves scripted `getUpdates` (long polling that returns as soon as a message
 * is scripted), answers 429 with `retry_after` on demand, fails chosen messages with a status of choice, and can
 * fail with 502 or go down entirely (connection refused) and come back on the same port.
 */

import type { Message, Update, UserFromGetMe } from "grammy/types";

/** One `sendMessage` as received. */
export interface SentMessage {
  chatId: string;
  text: string;
  parseMode: string | null;
  /** `Date.now()` when it arrived. */
  atMs: number;
}

/** One `sendPhoto` as received: the uploaded file and its caption. */
export interface SentPhoto {
  chatId: string;
  bytes: Uint8Array;
  filename: string;
  caption: string | null;
  atMs: number;
}

/** One API call as received (recorded on arrival), with the status it was answered with (0 until then). */
export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  status: number;
  atMs: number;
}

/** A chat that scripted messages come from. */
export interface FakeChat {
  id: number;
  type?: "private" | "group" | "supergroup";
  username?: string;
}

export const BOT_USER: UserFromGetMe = {
  id: 777,
  is_bot: true,
  first_name: "Collector",
  username: "collector_test_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
};

/** The fake server. */
export class FakeBotApi {
  readonly calls: ApiCall[] = [];
  readonly sent: SentMessage[] = [];
  readonly photos: SentPhoto[] = [];
  readonly #token: string;
  #server: Deno.HttpServer<Deno.NetAddr> | null;
  readonly #port: number;
  #updates: Update[] = [];
  #nextUpdateId = 1;
  #nextMessageId = 1;
  #waiters = new Set<() => void>();
  #failWith502 = false;
  #rateLimits: { method: string; retryAfterSec: number; times: number }[] = [];
  #failures: { match: RegExp; status: number; times: number }[] = [];

  private constructor(token: string) {
    this.#token = token;
    this.#server = this.#listen(0);
    this.#port = this.#server.addr.port;
  }

  /** Starts a fake for `token`. */
  static start(token = "123456:TEST-token"): FakeBotApi {
    return new FakeBotApi(token);
  }

  /** The `telegram.api_root` to give the bot. */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Scripts a text message from `chat`; a leading `/word` is marked as a bot command, as Telegram does. */
  message(chat: FakeChat, text: string): void {
    const command = /^\/\S+/.exec(text);
    const message = {
      message_id: this.#nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: chat.type === "group" || chat.type === "supergroup"
        ? { id: chat.id, type: chat.type, title: "group" }
        : {
          id: chat.id,
          type: "private",
          first_name: "Tester",
          ...(chat.username ? { username: chat.username } : {}),
        },
      from: { id: Math.abs(chat.id), is_bot: false, first_name: "Tester" },
      text,
      ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command[0].length }] } : {}),
    } as Message;
    this.#updates.push({ update_id: this.#nextUpdateId++, message } as Update);
    this.#release();
  }

  /** Answers the next `times` calls of `method` with 429 and `retry_after`. */
  rateLimit(method: string, retryAfterSec: number, times = 1): void {
    this.#rateLimits.push({ method, retryAfterSec, times });
  }

  /**
   * Answers the next `times` `sendMessage` calls whose text matches `match` with `status` (a Bot API error, e.g.
   * 500) instead of sending them.
   */
  failSends(match: RegExp, status: number, times = Infinity): void {
    this.#failures.push({ match, status, times });
  }

  /** While true, every call is answered 502 with an HTML body, as a proxy in front of a dead server does. */
  set failWith502(on: boolean) {
    this.#failWith502 = on;
  }

  /** Stops listening: calls fail with connection refused until {@linkcode up}. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.#release();
    await server?.shutdown();
  }

  /** Listens again on the same port. */
  up(): void {
    this.#server ??= this.#listen(this.#port);
  }

  /** The `sendMessage` texts sent to `chatId`. */
  textsTo(chatId: string): string[] {
    return this.sent.filter((m) => m.chatId === chatId).map((m) => m.text);
  }

  /** Resolves once `ready()` holds, checking every 10 ms; rejects after `timeoutMs`. */
  async waitFor(ready: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Shuts down (pending long polls are answered first). */
  async close(): Promise<void> {
    await this.down();
  }

  #listen(port: number): Deno.HttpServer<Deno.NetAddr> {
    return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => this.#handle(req));
  }

  #release(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  async #handle(req: Request): Promise<Response> {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url).pathname);
    const method = match?.[2] ?? "";
    const params: Record<string, unknown> = {};
    let upload: File | null = null;
    if ((req.headers.get("content-type") ?? "").startsWith("multipart/form-data")) {
      // grammY uploads files as multipart: fields are text, the file is a part with a file name.
      for (const [name, value] of await req.formData()) {
        if (typeof value === "string") params[name] = /^-?\d+$/.test(value) ? Number(value) : value;
        else {
          upload = value;
          params[name] = `attach:${value.name}`;
        }
      }
    } else {
      const text = await req.text();
      Object.assign(params, text ? JSON.parse(text) as Record<string, unknown> : {});
    }
    const call: ApiCall = { method, params, status: 0, atMs: Date.now() };
    this.calls.push(call);
    const answer = (status: number, body: unknown) => {
      call.status = status;
      return Response.json(body, { status });
    };
    if (match?.[1] !== this.#token) {
      return answer(401, { ok: false, error_code: 401, description: "Unauthorized" });
    }
    if (this.#failWith502) {
      call.status = 502;
      return new Response("<html><body>502 Bad Gateway</body></html>", { status: 502 });
    }
    const limit = this.#rateLimits.find((l) => l.method === method && l.times > 0);
    if (limit) {
      limit.times--;
      return answer(429, {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${limit.retryAfterSec}`,
        parameters: { retry_after: limit.retryAfterSec },
      });
    }
    const failure = method === "sendMessage"
      ? this.#failures.find((f) => f.times > 0 && f.match.test(String(params.text)))
      : undefined;
    if (failure) {
      failure.times--;
      return answer(failure.status, {
        ok: false,
        error_code: failure.status,
        description: failure.status >= 500 ? "Internal Server Error" : "Bad Request: scripted failure",
      });
    }
    switch (method) {
      case "getMe":
        return answer(200, { ok: true, result: BOT_USER });
      case "setMyCommands":
      case "deleteWebhook":
        return answer(200, { ok: true, result: true });
      case "sendMessage": {
        const chatId = String(params.chat_id);
        this.sent.push({
          chatId,
          text: String(params.text),
          parseMode: typeof params.parse_mode === "string" ? params.parse_mode : null,
          atMs: Date.now(),
        });
        return answer(200, {
          ok: true,
          result: {
            message_id: this.#nextMessageId++,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(chatId), type: "private", first_name: "Tester" },
            text: params.text,
          },
        });
      }
      case "sendPhoto": {
        const chatId = String(params.chat_id);
        if (upload === null) {
          return answer(400, { ok: false, error_code: 400, description: "Bad Request: no file uploaded" });
        }
        this.photos.push({
          chatId,
          bytes: new Uint8Array(await upload.arrayBuffer()),
          filename: upload.name,
          caption: typeof params.caption === "string" ? params.caption : null,
          atMs: Date.now(),
        });
        return answer(200, {
          ok: true,
          result: {
            message_id: this.#nextMessageId++,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(chatId), type: "private", first_name: "Tester" },
            photo: [{ file_id: `photo${this.photos.length}`, file_unique_id: "u", width: 1, height: 1 }],
          },
        });
      }
      case "getUpdates":
        return answer(200, { ok: true, result: await this.#getUpdates(params) });
      default:
        return answer(404, { ok: false, error_code: 404, description: "Not Found: method not found" });
    }
  }

  async #getUpdates(params: Record<string, unknown>): Promise<Update[]> {
    const offset = typeof params.offset === "number" ? params.offset : 0;
    const limit = typeof params.limit === "number" ? params.limit : 100;
    const timeoutMs = (typeof params.timeout === "number" ? params.timeout : 0) * 1000;
    // An offset confirms every earlier update, as in the real API.
    this.#updates = this.#updates.filter((u) => u.update_id >= offset);
    if (this.#updates.length === 0 && timeoutMs > 0 && this.#server !== null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, timeoutMs);
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(wake);
      });
    }
    return this.#updates.slice(0, limit);
  }
}
