/**
 * One WebSocket connection's protocol state (sans-I/O): its subscriptions, the `combined` property, the
 * incoming-message rate limit and the control messages SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS /
 * SET_PROPERTY / GET_PROPERTY (docs/binance-api.md §1–2). The server applies the returned verdicts.
 *
 * Error replies: spot sends `{"error":{"code":2,"msg":"…"},"id":N}` (as seen from stream.binance.com), the
 * futures the flat `{"code":2,"msg":"…","id":N}` of their docs; clients should accept both.
 */
import { type Market, profile } from "../binance/markets.ts";
import { normalizeStreamName } from "./streams.ts";

/** Binance's limit on streams per connection. */
export const MAX_STREAMS = 1024;

/** What the server must do after a message. */
export interface SessionVerdict {
  /** Text to send back, if any. */
  reply: string | null;
  /** Streams newly subscribed / unsubscribed (normalized names). */
  added: string[];
  removed: string[];
  /** Close the connection (message rate exceeded). */
  close: { code: number; reason: string } | null;
}

const METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`";

/**
 * The protocol state of one connection.
 *
 * @example
 * ```ts
 * const session = new WsSession("spot", false, []);
 * session.receive('{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}', Date.now());
 * // → { reply: '{"result":null,"id":1}', added: ["btcusdt@depth@100ms"], removed: [], close: null }
 * ```
 */
export class WsSession {
  readonly market: Market;
  /** Whether data frames are wrapped as `{"stream":…,"data":…}`. */
  combined: boolean;
  /** Subscribed stream names, in subscription order. */
  readonly streams = new Set<string>();
  readonly #recent: number[] = [];

  /** `initial` are the streams named in the connection URL (already normalized). */
  constructor(market: Market, combined: boolean, initial: readonly string[]) {
    this.market = market;
    this.combined = combined;
    for (const s of initial) this.streams.add(s);
  }

  /** Handles one incoming text message received at `now`. */
  receive(text: string, now: number): SessionVerdict {
    const verdict: SessionVerdict = { reply: null, added: [], removed: [], close: null };
    if (this.#overRate(now)) {
      verdict.close = { code: 1008, reason: "Too many requests" };
      return verdict;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      verdict.reply = this.#error(3, "Invalid JSON: expected value at line 1 column 1", null);
      return verdict;
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      verdict.reply = this.#error(2, "Invalid request: expected a JSON object", null);
      return verdict;
    }
    const req = msg as Record<string, unknown>;
    const id = req.id;
    if (!this.#validId(id)) {
      verdict.reply = this.#error(2, "Invalid request: request ID must be an unsigned integer", null);
      return verdict;
    }
    const method = req.method;
    if (method === undefined) {
      verdict.reply = this.#error(2, "Invalid request: missing field `method`", id);
      return verdict;
    }
    const params = req.params;
    switch (method) {
      case "SUBSCRIBE":
      case "UNSUBSCRIBE":
        verdict.reply = this.#subscription(method === "SUBSCRIBE", params, id, verdict);
        break;
      case "LIST_SUBSCRIPTIONS":
        verdict.reply = JSON.stringify({ result: [...this.streams], id });
        break;
      case "SET_PROPERTY":
      case "GET_PROPERTY":
        verdict.reply = this.#property(method === "SET_PROPERTY", params, id);
        break;
      default:
        verdict.reply = this.#error(
          2,
          `Invalid request: unknown variant \`${String(method)}\`, expected one of ${METHODS}`,
          id,
        );
    }
    return verdict;
  }

  #subscription(subscribe: boolean, params: unknown, id: unknown, verdict: SessionVerdict): string {
    if (!Array.isArray(params) || !params.every((p) => typeof p === "string")) {
      return this.#error(2, "Invalid request: params must be an array of stream names", id);
    }
    const names: string[] = [];
    for (const p of params as string[]) {
      const name = normalizeStreamName(p);
      if (name === null) return this.#error(2, "Invalid request: invalid stream", id);
      names.push(name);
    }
    if (subscribe) {
      const fresh = [...new Set(names.filter((n) => !this.streams.has(n)))];
      if (this.streams.size + fresh.length > MAX_STREAMS) {
        return this.#error(2, `Invalid request: too many streams (max ${MAX_STREAMS})`, id);
      }
      for (const n of fresh) this.streams.add(n);
      verdict.added = fresh;
    } else {
      verdict.removed = names.filter((n) => this.streams.delete(n));
    }
    return JSON.stringify({ result: null, id });
  }

  #property(set: boolean, params: unknown, id: unknown): string {
    if (!Array.isArray(params) || typeof params[0] !== "string") {
      return this.#error(2, "Invalid request: property name must be a string", id);
    }
    if (params[0] !== "combined") return this.#error(0, "Unknown property", id);
    if (!set) return JSON.stringify({ result: this.combined, id });
    if (typeof params[1] !== "boolean") return this.#error(1, "Invalid value type: expected Boolean", id);
    this.combined = params[1];
    return JSON.stringify({ result: null, id });
  }

  /** Spot: int64, alphanumeric string ≤ 36 chars, or null. Futures: unsigned integer. */
  #validId(id: unknown): boolean {
    const spot = this.market === "spot";
    if (typeof id === "number") return Number.isSafeInteger(id) && (spot || id >= 0);
    if (!spot) return false;
    return id === null || (typeof id === "string" && /^[A-Za-z0-9]{1,36}$/.test(id));
  }

  #error(code: number, msg: string, id: unknown): string {
    const shownId = id === undefined ? null : id;
    return this.market === "spot"
      ? JSON.stringify({ error: { code, msg }, id: shownId })
      : JSON.stringify({ code, msg, id: shownId });
  }

  /** Records a message; true when more than the limit arrived within the last second. */
  #overRate(now: number): boolean {
    const recent = this.#recent;
    recent.push(now);
    // Spot 5, futures 10 (docs/binance-api.md §2).
    const limit = profile(this.market).controlMessagesPerSecond;
    if (recent.length > limit + 1) recent.shift();
    return recent.length > limit && now - recent[0]! < 1000;
  }
}
