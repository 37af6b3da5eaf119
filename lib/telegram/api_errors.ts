/**
 * What to do about a failed Bot API call: retry later (network down, 5xx, 429 beyond what auto-retry waited
 * for, 409 while another poller holds the token), drop the message (400 bad request, 403 bot removed from the
 * chat), or give up on the token (401, 404: Telegram answers 404 to a malformed token).
 * @module
 */

import { GrammyError, HttpError } from "grammy";

/** The verdict on one failed call. */
export type FailureVerdict =
  | { action: "retry"; afterMs: number | null }
  | { action: "drop" }
  | { action: "badToken" };

/**
 * Classifies an error thrown by a grammY API call.
 *
 * @example
 * ```ts
 * classifyFailure(new TypeError("fetch failed")); // { action: "retry", afterMs: null }
 * ```
 */
export function classifyFailure(err: unknown): FailureVerdict {
  if (!(err instanceof GrammyError)) return { action: "retry", afterMs: null };
  const code = err.error_code;
  if (code === 429) {
    const after = err.parameters?.retry_after;
    return { action: "retry", afterMs: typeof after === "number" ? after * 1000 : null };
  }
  if (code >= 500 || code === 409) return { action: "retry", afterMs: null };
  if (code === 401 || code === 404) return { action: "badToken" };
  return { action: "drop" };
}

/** A short description of a failed call for logs. */
export function describeFailure(err: unknown): string {
  if (err instanceof GrammyError) return `${err.error_code} ${err.description}`;
  // grammY's HttpError says only that the request failed; its cause names the real problem.
  if (err instanceof HttpError && err.error instanceof Error) return `${err.message} (${err.error.message})`;
  return err instanceof Error ? err.message : String(err);
}
