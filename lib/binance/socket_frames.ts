/**
 * What a text frame on a market-data socket is: stream data, Binance's announcement that it will close the
 * socket (serverShutdown), or a reply to one of our control messages.
 *
 * Pure: the socket's owner acts on the answers. Sorting looks at the first bytes alone, since it runs for every
 * frame; only the rare replies are parsed.
 * @module
 */

// Binance writes these keys first; a frame that starts otherwise is not data (see parseReply).
const DATA_PREFIX = '{"stream":';
const SHUTDOWN_COMBINED = '{"stream":"!serverShutdown"';
const SHUTDOWN_RAW = '{"e":"serverShutdown"';
const BANG = 33; // "!" right after DATA_PREFIX + '"': only `!`-streams, such as serverShutdown, have it

/** Where {@link frameKind} sorts a text frame. */
export type FrameKind = "data" | "shutdown" | "control";

/**
 * Sorts a text frame by its first bytes: `data` (`{"stream":…}`, handed on unparsed), `shutdown` (spot's
 * serverShutdown, combined or raw), or `control` (anything else: see {@link parseReply}). Hot path.
 *
 * @example
 * ```ts
 * frameKind('{"stream":"btcusdt@aggTrade","data":{}}'); // "data"
 * frameKind('{"stream":"!serverShutdown","data":{}}'); // "shutdown"
 * frameKind('{"result":null,"id":1}'); // "control"
 * ```
 */
export function frameKind(text: string): FrameKind {
  if (text.startsWith(DATA_PREFIX)) {
    return text.charCodeAt(DATA_PREFIX.length + 1) === BANG && text.startsWith(SHUTDOWN_COMBINED)
      ? "shutdown"
      : "data";
  }
  return text.startsWith(SHUTDOWN_RAW) ? "shutdown" : "control";
}

/** A reply to a control message: an ack, or Binance's refusal. */
export interface ControlReply {
  /** The request it answers; null when Binance left it out. */
  id: number | null;
  /** Null for an ack. */
  error: { code: number; msg: string } | null;
}

/**
 * Parses a `control` frame as a reply (`{"result":…,"id":N}`, `{"code":N,"msg":…}`, `{"error":{…},"id":N}`);
 * null for a frame of any other shape.
 *
 * @example
 * ```ts
 * parseReply('{"result":null,"id":7}'); // { id: 7, error: null }
 * parseReply('{"error":{"code":2,"msg":"Invalid request"},"id":7}'); // { id: 7, error: { code: 2, msg: "Invalid request" } }
 * parseReply("pong"); // null
 * ```
 */
export function parseReply(text: string): ControlReply | null {
  if (
    !(text.startsWith('{"result"') || text.startsWith('{"id"') || text.startsWith('{"code"') ||
      text.startsWith('{"error"'))
  ) {
    return null;
  }
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text); // an object: the text starts with "{"
  } catch {
    return null;
  }
  // Spot wraps errors as {"error":{"code":2,"msg":…},"id":N}; USD-M sends them flat.
  const err = typeof r.error === "object" && r.error !== null ? r.error as Record<string, unknown> : r;
  return {
    id: typeof r.id === "number" ? r.id : null,
    error: typeof err.code === "number"
      ? { code: err.code, msg: typeof err.msg === "string" ? err.msg : "" }
      : null,
  };
}
