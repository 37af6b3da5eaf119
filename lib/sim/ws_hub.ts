/**
 * The simulator's WebSocket side: upgrades on `/spot/ws|stream`, `/usdm/(public|market)/ws|stream` and
 * `/coinm/ws|stream`, each connection's session (subscriptions, control messages, message rate), the stream →
 * subscribers registry, and sending a frame to every subscriber of a stream (built once; wrapped for combined
 * connections).
 */
import { type Market, profile } from "../binance/markets.ts";
import type { Faults } from "./faults.ts";
import { combinedFrame, serverShutdownFrame } from "./frames.ts";
import { normalizeStreamName, type Route, routeDelivers } from "./streams.ts";
import { MAX_STREAMS, WsSession } from "./ws_session.ts";

/** Close codes the simulator uses. */
export const CLOSE_CODES = {
  disconnect: 1011,
  lifetime: 1001,
  serverShutdown: 1001,
  rateLimit: 1008,
  slowConsumer: 1013,
} as const;

/** Deno's idle-timeout ping cadence, as Binance pings (spot 20 s, futures 3 min). */
const PING_SECONDS: Readonly<Record<Market, number>> = { spot: 20, usdm: 180, coinm: 180 };

/** One open WebSocket connection. */
export interface Connection {
  market: Market;
  route: Route;
  socket: WebSocket;
  session: WsSession;
  /** Streams this connection receives data of (subscribed on a route that delivers them). */
  delivering: Set<string>;
  timers: ReturnType<typeof setTimeout>[];
}

/** Counters the hub updates. */
export interface HubStats {
  framesSent: number;
  connectionsOpened: number;
}

/**
 * Every WebSocket connection of the simulator.
 *
 * @example
 * ```ts
 * import { noFaults } from "./faults.ts";
 * const hub = new WsHub(noFaults(), 64 * 1024 * 1024, { framesSent: 0, connectionsOpened: 0 });
 * // In a Deno.serve handler: return hub.upgrade(request, "spot", "/ws/btcusdt@depth", new URL(request.url));
 * const subscribers = hub.subscribers("spot", "btcusdt@depth");
 * if (subscribers !== undefined) hub.send(subscribers, "btcusdt@depth", '{"e":"depthUpdate"}');
 * ```
 */
export class WsHub {
  readonly #faults: Faults;
  readonly #maxBuffered: number;
  readonly #stats: HubStats;
  readonly #connections = new Set<Connection>();
  readonly #registry: Record<Market, Map<string, Set<Connection>>> = {
    spot: new Map(),
    usdm: new Map(),
    coinm: new Map(),
  };
  #closed = false;

  /** `maxBuffered`: close a connection whose unsent backlog exceeds this many bytes. */
  constructor(faults: Faults, maxBuffered: number, stats: HubStats) {
    this.#faults = faults;
    this.#maxBuffered = maxBuffered;
    this.#stats = stats;
  }

  /** Open connections, optionally of one market. */
  count(market?: Market): number {
    let n = 0;
    for (const c of this.#connections) if (market === undefined || c.market === market) n++;
    return n;
  }

  /** The connections receiving `stream` of `market` (undefined when none ever did). */
  subscribers(market: Market, stream: string): Set<Connection> | undefined {
    return this.#registry[market].get(stream);
  }

  /** Sends a data frame of `stream` to `subs`, wrapped for combined connections. */
  send(subs: Iterable<Connection>, stream: string, raw: string): void {
    let combined: string | null = null;
    for (const c of subs) {
      if (c.session.combined) this.#sendTo(c, combined ??= combinedFrame(stream, raw));
      else this.#sendTo(c, raw);
    }
  }

  /** Sends `text(connection)` to every connection, or every one of `market`. */
  broadcast(market: Market | undefined, text: (c: Connection) => string): void {
    for (const c of this.#connections) {
      if (market === undefined || c.market === market) this.#sendTo(c, text(c));
    }
  }

  /** Closes every (or every matching) connection now; returns how many. */
  disconnectAll(market: Market | undefined, code: number, reason: string): number {
    let n = 0;
    for (const c of [...this.#connections]) {
      if (market !== undefined && c.market !== market) continue;
      this.#drop(c, code, reason);
      n++;
    }
    return n;
  }

  /**
   * Sends the connections of the markets that announce restarts (spot) `serverShutdown` and closes them
   * `closeAfterMs` later; returns how many.
   */
  serverShutdown(now: number, closeAfterMs: number): number {
    const raw = serverShutdownFrame(now);
    let n = 0;
    for (const c of this.#connections) {
      if (!profile(c.market).serverShutdown) continue;
      n++;
      this.#sendTo(c, c.session.combined ? combinedFrame("!serverShutdown", raw) : raw);
      c.timers.push(
        setTimeout(() => this.#drop(c, CLOSE_CODES.serverShutdown, "Server shutdown"), closeAfterMs),
      );
    }
    return n;
  }

  /** Closes every connection and refuses new ones. */
  close(): void {
    this.#closed = true;
    this.disconnectAll(undefined, 1001, "Simulator shutting down");
  }

  /**
   * Answers a WebSocket upgrade request for `path` (relative to the market prefix): the connection, or an HTTP
   * error for a bad path, bad stream names, or while `refuseConnectionsUntil` is in the future.
   */
  upgrade(req: Request, market: Market, path: string, url: URL): Response {
    let route: Route = "legacy";
    let rest = path;
    if (profile(market).routed) {
      for (const r of ["public", "market"] as const) {
        if (rest.startsWith(`/${r}/`)) {
          route = r;
          rest = rest.slice(r.length + 1);
        }
      }
    }
    let names: string[];
    let combined: boolean;
    if (rest === "/ws" || rest.startsWith("/ws/")) {
      combined = false;
      names = rest.slice(4).split("/").filter((s) => s !== "").map(decodeURIComponent);
    } else if (rest === "/stream") {
      combined = true;
      names = (url.searchParams.get("streams") ?? "").split("/").filter((s) => s !== "");
    } else {
      return json(404, { code: -1000, msg: `Unknown WebSocket path ${path}` });
    }
    const normalized = names.map(normalizeStreamName);
    if (normalized.some((n) => n === null)) {
      return json(400, { code: 2, msg: "Invalid request: invalid stream" });
    }
    if (normalized.length > MAX_STREAMS) {
      return json(400, { code: 2, msg: "Invalid request: too many streams" });
    }
    const refusedFor = this.#faults.refuseConnectionsUntil - Date.now();
    if (refusedFor > 0) return refusal(this.#faults.refuseConnectionsStatus, refusedFor);
    return this.#accept(req, market, route, combined, [...new Set(normalized as string[])]);
  }

  #accept(req: Request, market: Market, route: Route, combined: boolean, streams: string[]): Response {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: PING_SECONDS[market] });
    const conn: Connection = {
      market,
      route,
      socket,
      session: new WsSession(market, combined, streams),
      delivering: new Set(),
      timers: [],
    };
    socket.onopen = () => {
      if (this.#closed) {
        socket.close(1001, "Simulator shutting down");
        return;
      }
      this.#connections.add(conn);
      this.#stats.connectionsOpened++;
      this.#subscribe(conn, [...conn.session.streams]);
      conn.timers.push(
        setTimeout(
          () => this.#drop(conn, CLOSE_CODES.lifetime, "Connection lifetime reached"),
          this.#faults.lifetimeMs,
        ),
      );
    };
    socket.onmessage = (e) => {
      if (typeof e.data !== "string") return;
      const verdict = conn.session.receive(e.data, Date.now());
      if (verdict.close !== null) {
        this.#drop(conn, verdict.close.code, verdict.close.reason);
        return;
      }
      this.#subscribe(conn, verdict.added);
      this.#unsubscribe(conn, verdict.removed);
      if (verdict.reply !== null && socket.readyState === WebSocket.OPEN) socket.send(verdict.reply);
    };
    socket.onclose = () => this.#forget(conn);
    socket.onerror = () => this.#forget(conn);
    return response;
  }

  #sendTo(c: Connection, text: string): void {
    if (c.socket.readyState !== WebSocket.OPEN) return;
    if (c.socket.bufferedAmount > this.#maxBuffered) {
      this.#drop(c, CLOSE_CODES.slowConsumer, "Slow consumer");
      return;
    }
    c.socket.send(text);
    this.#stats.framesSent++;
  }

  #subscribe(c: Connection, streams: readonly string[]): void {
    const registry = this.#registry[c.market];
    for (const s of streams) {
      // A stream on the wrong USD-M route is accepted and listed but gets no data, as on Binance.
      if (!routeDelivers(c.market, c.route, s)) continue;
      c.delivering.add(s);
      let subs = registry.get(s);
      if (subs === undefined) registry.set(s, subs = new Set());
      subs.add(c);
    }
  }

  #unsubscribe(c: Connection, streams: readonly string[]): void {
    const registry = this.#registry[c.market];
    for (const s of streams) {
      c.delivering.delete(s);
      registry.get(s)?.delete(c);
    }
  }

  #drop(c: Connection, code: number, reason: string): void {
    this.#forget(c);
    if (c.socket.readyState === WebSocket.OPEN || c.socket.readyState === WebSocket.CONNECTING) {
      c.socket.close(code, reason);
    }
  }

  #forget(c: Connection): void {
    if (!this.#connections.delete(c)) return;
    for (const t of c.timers) clearTimeout(t);
    c.timers.length = 0;
    this.#unsubscribe(c, [...c.delivering]);
  }
}

/** The refusal of an upgrade while `refuseConnectionsUntil` holds: 503, or 429 with `Retry-After`. */
function refusal(status: 503 | 429, remainingMs: number): Response {
  if (status === 503) return json(503, { code: -1008, msg: "Service unavailable (simulated)." });
  return json(429, { code: -1003, msg: "Too many requests; current limit of IP is exceeded." }, {
    "retry-after": String(Math.max(1, Math.ceil(remainingMs / 1000))),
  });
}

/** A JSON response with Binance's content type. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json;charset=UTF-8", ...headers },
  });
}
