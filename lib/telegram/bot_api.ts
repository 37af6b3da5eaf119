/**
 * grammY's Bot API client as the bot uses it under Deno: a `fetch` that Deno accepts from grammY's npm build,
 * 429 waits of up to a minute taken by auto-retry, and chat ids in the form the API takes.
 * @module
 */

import { autoRetry } from "@grammyjs/auto-retry";
import { Bot } from "grammy";

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

/**
 * A grammY `Bot` for `token` talking to `apiRoot` (no trailing slash); a call gives up after `timeoutSeconds`
 * (keep it above the long-poll timeout). Makes no call.
 *
 * @example
 * ```ts
 * const bot = createBot("123456:TEST-token", "https://api.telegram.org", 60);
 * ```
 */
export function createBot(token: string, apiRoot: string, timeoutSeconds: number): Bot {
  const bot = new Bot(token, { client: { apiRoot, fetch: nativeFetch, timeoutSeconds } });
  // 429 waits up to a minute are taken here; longer ones, network errors and 5xx go back to our loops, whose
  // waits a stop can cut short.
  bot.api.config.use(
    autoRetry({
      maxDelaySeconds: 60,
      maxRetryAttempts: 3,
      rethrowHttpErrors: true,
      rethrowInternalServerErrors: true,
    }),
  );
  return bot;
}

/** grammY's npm typings name the `abort-controller` polyfill's AbortSignal; at run time any signal works. */
export type ApiSignal = Parameters<Bot["api"]["getMe"]>[0];

/** `signal` typed for grammY's API calls. */
export function apiSignal(signal: AbortSignal): ApiSignal {
  return signal as unknown as ApiSignal;
}

/**
 * A configured chat as the API takes it: numeric ids as numbers, `@channel` names as they are.
 *
 * @example
 * ```ts
 * chatTarget("-1001234567890"); // -1001234567890
 * chatTarget("@alerts"); // "@alerts"
 * ```
 */
export function chatTarget(chat: string): number | string {
  return /^-?\d+$/.test(chat) ? Number(chat) : chat;
}
