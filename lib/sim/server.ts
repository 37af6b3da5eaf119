/**
 * The simulator's I/O shell: one HTTP server on loopback serving both markets under path prefixes —
 * `/spot` (REST `/spot/api/v3/…`, WebSocket `/spot/ws/…`, `/spot/stream?streams=…`) and `/usdm` (REST
 * `/usdm/fapi/v1/…`, WebSocket `/usdm/public/…`, `/usdm/market/…`, or unrouted `/usdm/ws|stream` which gets
 * `/public` data only). A timer steps the exchange every `tickMs`; each event's frame is built once and sent to
 * every subscribed connection. Fault switches (`sim.faults`) are read on every step and request.
 *
 * Not simulated: TCP resets (a disconnect is a close frame with code 1011), counting ping/pong frames toward
 * the message limit (Deno answers pings itself). Server pings are Deno's idle-timeout pings: every 20 s on
 * spot, 180 s on USD-M, closing the socket when no pong comes back in time.
 */
import { type Market, MARKETS } from "../binance/types.ts";
import type { AggTradeEvent, SimEvent } from "./events.ts";
import { type BurstRequest, Exchange } from "./exchange.ts";
import { diffFaultHits, type Faults, isDue, noFaults } from "./faults.ts";
import { combinedFrame, eventFrame, serverShutdownFrame, tradeFrames } from "./frames.ts";
import { hashSeed, Prng } from "./prng.ts";
import { RestApi } from "./rest.ts";
import { normalizeStreamName, type Route, routeDelivers } from "./streams.ts";
import { GroundTruth } from "./truth.ts";
import { MAX_STREAMS, WsSession } from "./ws_session.ts";

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /** Upper-case symbols, listed on both markets. */
  symbols: readonly string[];
  /** PRNG seed of the market and of random faults (default 1). */
  seed?: number;
  /** Engine step in ms (default 10; 0 = step back to back, the firehose mode). */
  tickMs?: number;
  /** Book level changes per second per (market, symbol) (default 300). */
  rate?: number;
  /** Taker orders per second per (market, symbol) (default rate / 40). */
  tradesPerSec?: number;
  /** Levels per book side (default: 400–1200 depending on the symbol). */
  levelsPerSide?: number;
  /** Initial fault switches (default all off). */
  faults?: Partial<Faults>;
  /** Connection lifetime in ms (default 24 h); same as `faults.lifetimeMs`. */
  lifetimeMs?: number;
  /** Keep ground truth in memory (`sim.truth` queries). */
  truth?: boolean;
  /** Also write ground truth as JSON lines to this file. */
  truthFile?: string;
  /** Port to listen on (default 0 = any free port). */
  port?: number;
  /** REQUEST_WEIGHT per minute (default spot 6000, USD-M 2400). */
  weightPerMinute?: Partial<Record<Market, number>>;
  /** First IP ban's length after ignoring a 429 (default 120 000 ms). */
  banMs?: number;
  /** Close a connection whose unsent backlog exceeds this many bytes (default 64 MiB). */
  maxBufferedBytes?: number;
}

/** Where a market's REST and WebSocket API live. */
export interface MarketUrls {
  /** e.g. `http://127.0.0.1:PORT/spot`; append `/api/v3/depth?…`. */
  restUrl: string;
  /** e.g. `ws://127.0.0.1:PORT/spot`; append `/stream?streams=…` or `/ws/<stream>`. */
  wsUrl: string;
}

/** Counters for benchmarks and tests. */
export interface SimulatorStats {
  steps: number;
  events: number;
  framesSent: number;
  connectionsOpened: number;
}

/** A running simulator. */
export interface Simulator {
  readonly port: number;
  readonly spot: MarketUrls;
  readonly usdm: MarketUrls;
  /** Mutable fault switches, read on every step and request. */
  readonly faults: Faults;
  /** Ground truth (queries throw unless started with `truth: true`). */
  readonly truth: GroundTruth;
  readonly exchange: Exchange;
  readonly stats: SimulatorStats;
  /** Open WebSocket connections, optionally of one market. */
  connectionCount(market?: Market): number;
  /** Closes every (or every matching) connection now; returns how many. */
  disconnectAll(market?: Market): number;
  /** Stops stepping, closes every connection and the server, flushes the truth file. */
  close(): Promise<void>;
}

/** Close codes the simulator uses. */
export const CLOSE_CODES = {
  disconnect: 1011,
  lifetime: 1001,
  serverShutdown: 1001,
  rateLimit: 1008,
  slowConsumer: 1013,
} as const;

const DEFAULT_WEIGHT: Readonly<Record<Market, number>> = { spot: 6000, usdm: 2400 };
/** Deno's idle-timeout ping cadence, as Binance pings (spot 20 s, USD-M 3 min). */
const PING_SECONDS: Readonly<Record<Market, number>> = { spot: 20, usdm: 180 };

interface Connection {
  market: Market;
  route: Route;
  socket: WebSocket;
  session: WsSession;
  /** Streams this connection receives data of (subscribed on a route that delivers them). */
  delivering: Set<string>;
  timers: ReturnType<typeof setTimeout>[];
}

interface Delayed {
  due: number;
  market: Market;
  stream: string;
  raw: string;
}

/**
 * Starts the simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 1, tickMs: 10, truth: true });
 * const ws = new WebSocket(`${sim.spot.wsUrl}/stream?streams=btcusdt@depth@100ms`);
 * // …
 * await sim.close();
 * ```
 */
export function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  return Promise.resolve(new SimulatorServer(options));
}

class SimulatorServer implements Simulator {
  readonly port: number;
  readonly spot: MarketUrls;
  readonly usdm: MarketUrls;
  readonly faults: Faults;
  readonly truth: GroundTruth;
  readonly exchange: Exchange;
  readonly stats: SimulatorStats = { steps: 0, events: 0, framesSent: 0, connectionsOpened: 0 };
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #rest: RestApi;
  readonly #rng: Prng;
  readonly #tickMs: number;
  readonly #maxBuffered: number;
  readonly #recordTruth: boolean;
  readonly #truthFile: Deno.FsFile | null;
  readonly #truthLines: string[] = [];
  readonly #connections = new Set<Connection>();
  readonly #registry: Record<Market, Map<string, Set<Connection>>> = { spot: new Map(), usdm: new Map() };
  readonly #delayed: Delayed[] = [];
  readonly #hangs = new Set<() => void>();
  readonly #lastFired = { burst: -Infinity, disconnect: -Infinity, serverShutdown: -Infinity };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: SimulatorOptions) {
    const seed = options.seed ?? 1;
    const now = Date.now();
    this.exchange = new Exchange({
      symbols: options.symbols,
      seed,
      changesPerSec: options.rate,
      tradesPerSec: options.tradesPerSec,
      levelsPerSide: options.levelsPerSide,
    }, now);
    this.faults = { ...noFaults(options.lifetimeMs), ...options.faults };
    this.#rng = new Prng(hashSeed(seed, "faults"));
    this.#tickMs = options.tickMs ?? 10;
    this.#maxBuffered = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.#truthFile = options.truthFile === undefined
      ? null
      : Deno.openSync(options.truthFile, { write: true, create: true, truncate: true });
    this.#recordTruth = options.truth === true || this.#truthFile !== null;
    this.truth = new GroundTruth({
      memory: options.truth === true,
      sink: this.#truthFile === null ? undefined : (line) => this.#truthLines.push(line),
    });
    if (this.#recordTruth) {
      for (const e of this.exchange.engines()) {
        this.truth.addSymbol(e.spec, e.initial);
      }
    }
    this.#rest = new RestApi(this.exchange, this.faults, new Prng(hashSeed(seed, "rest")), {
      weightPerMinute: { ...DEFAULT_WEIGHT, ...options.weightPerMinute },
      banMs: options.banMs ?? 120_000,
    });
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
    this.port = this.#server.addr.port;
    const base = `127.0.0.1:${this.port}`;
    this.spot = { restUrl: `http://${base}/spot`, wsUrl: `ws://${base}/spot` };
    this.usdm = { restUrl: `http://${base}/usdm`, wsUrl: `ws://${base}/usdm` };
    this.#schedule(now);
  }

  connectionCount(market?: Market): number {
    let n = 0;
    for (const c of this.#connections) if (market === undefined || c.market === market) n++;
    return n;
  }

  disconnectAll(market?: Market): number {
    let n = 0;
    for (const c of [...this.#connections]) {
      if (market !== undefined && c.market !== market) continue;
      this.#drop(c, CLOSE_CODES.disconnect, "Simulated disconnect");
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const c of [...this.#connections]) this.#drop(c, 1001, "Simulator shutting down");
    for (const release of this.#hangs) release();
    await this.#server.shutdown();
    this.#flushTruth();
    this.#truthFile?.close();
  }

  // ---- engine loop -------------------------------------------------------------------------------------------

  #schedule(startedAt: number): void {
    if (this.#closed) return;
    const wait = Math.max(0, this.#tickMs - (Date.now() - startedAt));
    this.#timer = setTimeout(() => {
      const now = Date.now();
      this.#step(now);
      this.#schedule(now);
    }, wait);
  }

  #step(now: number): void {
    const f = this.faults;
    let burst: BurstRequest | null = null;
    if (f.burst !== null && isDue(f.burst, this.#lastFired.burst, now)) {
      burst = f.burst;
      this.#lastFired.burst = now;
      if (f.burst.everyMs === undefined) f.burst = null;
    }
    const events = this.exchange.step(now, burst);
    this.stats.steps++;
    this.stats.events += events.length;
    for (const ev of events) {
      if (this.#recordTruth) this.truth.record(ev);
      this.#dispatch(ev, now);
    }
    this.#releaseDelayed(now);
    this.#connectionFaults(now);
    this.#flushTruth();
  }

  #dispatch(ev: SimEvent, now: number): void {
    const registry = this.#registry[ev.spec.market];
    if (ev.kind === "aggTrade" && ev.spec.market === "spot") this.#dispatchTrades(ev, registry);
    const subs = registry.get(ev.stream);
    if (subs === undefined || subs.size === 0) return;
    const raw = this.#withExtras(eventFrame(ev));
    if (ev.kind !== "depth") {
      this.#send(subs, ev.stream, raw);
      return;
    }
    // Diff faults act only on events someone receives, so a `count` is spent where a test can see it.
    const f = this.faults;
    const record = (action: "drop" | "duplicate" | "delay") =>
      this.truth.recordFault({
        action,
        market: ev.spec.market,
        symbol: ev.spec.symbol,
        stream: ev.stream,
        firstUpdateId: ev.firstId,
        finalUpdateId: ev.finalId,
        time: now,
      });
    if (diffFaultHits(f.dropDiffs, ev.spec, this.#rng)) {
      record("drop");
      return;
    }
    if (f.delayDiffs !== null && diffFaultHits(f.delayDiffs, ev.spec, this.#rng)) {
      record("delay");
      this.#delayed.push({
        due: now + (f.delayDiffs.delayMs ?? 250),
        market: ev.spec.market,
        stream: ev.stream,
        raw,
      });
      return;
    }
    this.#send(subs, ev.stream, raw);
    if (diffFaultHits(f.duplicateDiffs, ev.spec, this.#rng)) {
      record("duplicate");
      this.#send(subs, ev.stream, raw);
    }
  }

  #dispatchTrades(ev: AggTradeEvent, registry: Map<string, Set<Connection>>): void {
    const subs = registry.get(ev.tradeStream);
    if (subs === undefined || subs.size === 0) return;
    for (const frame of tradeFrames(ev)) this.#send(subs, ev.tradeStream, this.#withExtras(frame));
  }

  #withExtras(raw: string): string {
    return this.faults.unknownFields ? `${raw.slice(0, -1)},"zz":"sim","st":1}` : raw;
  }

  #send(subs: Iterable<Connection>, stream: string, raw: string): void {
    let combined: string | null = null;
    for (const c of subs) {
      if (c.session.combined) this.#sendTo(c, combined ??= combinedFrame(stream, raw));
      else this.#sendTo(c, raw);
    }
  }

  #sendTo(c: Connection, text: string): void {
    if (c.socket.readyState !== WebSocket.OPEN) return;
    if (c.socket.bufferedAmount > this.#maxBuffered) {
      this.#drop(c, CLOSE_CODES.slowConsumer, "Slow consumer");
      return;
    }
    c.socket.send(text);
    this.stats.framesSent++;
  }

  #releaseDelayed(now: number): void {
    const delayed = this.#delayed;
    let i = 0;
    while (i < delayed.length) {
      const d = delayed[i]!;
      if (d.due > now) {
        i++;
        continue;
      }
      delayed.splice(i, 1);
      const subs = this.#registry[d.market].get(d.stream);
      if (subs !== undefined) this.#send(subs, d.stream, d.raw);
    }
  }

  #connectionFaults(now: number): void {
    const f = this.faults;
    if (f.garbage !== null && this.#rng.chance(f.garbage.probability)) {
      this.#sendGarbage(f.garbage.market, now);
    }
    if (f.disconnect !== null && isDue(f.disconnect, this.#lastFired.disconnect, now)) {
      const market = f.disconnect.market;
      this.#lastFired.disconnect = now;
      if (f.disconnect.everyMs === undefined) f.disconnect = null;
      const n = this.disconnectAll(market);
      this.truth.recordFault({ action: "disconnect", market: market ?? null, connections: n, time: now });
    }
    if (f.serverShutdown !== null && isDue(f.serverShutdown, this.#lastFired.serverShutdown, now)) {
      const closeAfter = f.serverShutdown.closeAfterMs ?? 1000;
      this.#lastFired.serverShutdown = now;
      if (f.serverShutdown.everyMs === undefined) f.serverShutdown = null;
      const n = this.#serverShutdown(now, closeAfter);
      this.truth.recordFault({ action: "serverShutdown", market: "spot", connections: n, time: now });
    }
  }

  /** Junk a client must survive: non-JSON text, an unknown event type, a JSON value that is not an event. */
  #sendGarbage(market: Market | undefined, now: number): void {
    const kind = this.#rng.int(3);
    for (const c of this.#connections) {
      if (market !== undefined && c.market !== market) continue;
      const unknown = `{"e":"simUnknownEvent","E":${now},"s":"SIM"}`;
      const text = kind === 0
        ? "\u0001not json{"
        : kind === 1
        ? (c.session.combined ? combinedFrame("sim@unknown", unknown) : unknown)
        : "[1,2,3]";
      this.#sendTo(c, text);
    }
  }

  #serverShutdown(now: number, closeAfterMs: number): number {
    const raw = serverShutdownFrame(now);
    let n = 0;
    for (const c of this.#connections) {
      if (c.market !== "spot") continue;
      n++;
      this.#sendTo(c, c.session.combined ? combinedFrame("!serverShutdown", raw) : raw);
      c.timers.push(
        setTimeout(() => this.#drop(c, CLOSE_CODES.serverShutdown, "Server shutdown"), closeAfterMs),
      );
    }
    return n;
  }

  #flushTruth(): void {
    const file = this.#truthFile;
    if (file === null || this.#truthLines.length === 0) return;
    const bytes = new TextEncoder().encode(this.#truthLines.join("\n") + "\n");
    this.#truthLines.length = 0;
    for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
  }

  // ---- HTTP --------------------------------------------------------------------------------------------------

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const market = MARKETS.find((m) => url.pathname.startsWith(`/${m}/`));
    if (market === undefined) return json(404, { code: -1000, msg: "Unknown path; use /spot/… or /usdm/…" });
    const path = url.pathname.slice(market.length + 1);
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.#upgrade(req, market, path, url);
    }
    const outcome = this.#rest.handle(market, req.method, path, url.searchParams, Date.now());
    if (outcome.kind === "response") {
      return new Response(outcome.body, { status: outcome.status, headers: outcome.headers });
    }
    await this.#hang(outcome.ms);
    return json(504, { code: -1007, msg: "Timeout waiting for response from backend server." });
  }

  /**
   * Holds a request for `ms` or until the simulator closes. (The client's own timeout is what a test observes;
   * `request.signal` is not used because Deno's legacy mode also aborts it on normal completion.)
   */
  #hang(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        this.#hangs.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      this.#hangs.add(release);
    });
  }

  #upgrade(req: Request, market: Market, path: string, url: URL): Response {
    let route: Route = "legacy";
    let rest = path;
    if (market === "usdm") {
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
    if (Date.now() < this.faults.refuseConnectionsUntil) {
      return json(503, { code: -1008, msg: "Service unavailable (simulated)." });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: PING_SECONDS[market] });
    const conn: Connection = {
      market,
      route,
      socket,
      session: new WsSession(market, combined, [...new Set(normalized as string[])]),
      delivering: new Set(),
      timers: [],
    };
    socket.onopen = () => {
      if (this.#closed) {
        socket.close(1001, "Simulator shutting down");
        return;
      }
      this.#connections.add(conn);
      this.stats.connectionsOpened++;
      this.#subscribe(conn, [...conn.session.streams]);
      conn.timers.push(
        setTimeout(
          () => this.#drop(conn, CLOSE_CODES.lifetime, "Connection lifetime reached"),
          this.faults.lifetimeMs,
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

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json;charset=UTF-8" },
  });
}
