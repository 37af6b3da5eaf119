/**
 * The simulator's I/O shell: one HTTP server on loopback serving the three markets under path prefixes —
 * `/spot` (REST `/spot/api/v3/…`, WebSocket `/spot/ws/…`, `/spot/stream?streams=…`), `/usdm` (REST
 * `/usdm/fapi/v1/…`, WebSocket `/usdm/public/…`, `/usdm/market/…`, or unrouted `/usdm/ws|stream` which gets
 * `/public` data only) and `/coinm` (REST `/coinm/dapi/v1/…`, WebSocket `/coinm/ws/…`,
 * `/coinm/stream?streams=…`). A timer steps the exchange every `tickMs`, first applying due listing changes
 * and COIN-M deliveries; each event's frame is built once and sent to every subscribed connection
 * (`ws_hub.ts`, `delivery.ts`). Fault switches (`sim.faults`) are read on every step and request.
 *
 * Not simulated: TCP resets (a disconnect is a close frame with code 1011), counting ping/pong frames toward
 * the message limit (Deno answers pings itself). Server pings are Deno's idle-timeout pings: every 20 s on
 * spot, 180 s on the futures markets, closing the socket when no pong comes back in time.
 */
import { type Market, MARKETS, profile } from "../binance/markets.ts";
import { Delivery } from "./delivery.ts";
import { type BurstRequest, Exchange } from "./exchange.ts";
import { type Faults, isDue, noFaults } from "./faults.ts";
import { applyDeliveries, applyListingChanges, type ListingTarget } from "./listing_changes.ts";
import { hashSeed, Prng } from "./prng.ts";
import { RestApi } from "./rest.ts";
import { GroundTruth } from "./truth.ts";
import { generateUniverse } from "./universe.ts";
import { CLOSE_CODES, json, WsHub } from "./ws_hub.ts";

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /**
   * Upper-case symbols: COIN-M names (`BTCUSD_PERP`, `BTCUSD_261225`) are listed on COIN-M, the others on spot
   * and USD-M; or `"all"`: a whole generated market (about 1,500 spot, 500 USD-M and 40 COIN-M symbols, a few
   * busy, a long quiet tail, a few not trading; see `universe.ts`).
   */
  symbols: readonly string[] | "all";
  /** With `"all"`: symbols per market (default spot 1500, USD-M 500, COIN-M 40). */
  universe?: Partial<Record<Market, number>>;
  /** PRNG seed of the market and of random faults (default 1). */
  seed?: number;
  /** Engine step in ms (default 10; 0 = step back to back, the firehose mode). */
  tickMs?: number;
  /**
   * Book level changes per second per (market, symbol) (default 300); with `"all"`, those of the busiest
   * symbol, the others scaling down from it (default 400).
   */
  rate?: number;
  /** Taker orders per second per (market, symbol) (default rate / 40; not with `"all"`). */
  tradesPerSec?: number;
  /** Levels per book side (default: 400–1200 depending on the symbol; with `"all"`, 100–1000 by activity). */
  levelsPerSide?: number;
  /** Aggregate trades and candles per interval kept per symbol for REST (default 100 000; `"all"`: 10 000). */
  historyLimit?: number;
  /** Initial fault switches (default all off). */
  faults?: Partial<Faults>;
  /** Connection lifetime in ms (default 24 h); same as `faults.lifetimeMs`. */
  lifetimeMs?: number;
  /** Keep ground truth in memory (`sim.truth` queries). */
  truth?: boolean;
  /** Keep only this many ms of truth events in memory (default: all; with `"all"`: 60 000). */
  truthWindowMs?: number;
  /** Also write ground truth as JSON lines to this file. */
  truthFile?: string;
  /** Port to listen on (default 0 = any free port). */
  port?: number;
  /** REQUEST_WEIGHT per minute (default spot 6000, USD-M 2400, COIN-M 6000). */
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
  readonly coinm: MarketUrls;
  /** When the simulator started (epoch ms); listing changes' `afterMs` counts from here. */
  readonly startedAt: number;
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

/** Binance's REQUEST_WEIGHT per minute of each market (spot 6000, USD-M 2400, COIN-M 6000). */
const DEFAULT_WEIGHT = Object.fromEntries(MARKETS.map((m) => [m, profile(m).weightLimit])) as Record<
  Market,
  number
>;

/**
 * Starts the simulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * const sim = await startSimulator({ symbols: ["BTCUSDT", "BTCUSD_PERP"], seed: 1, tickMs: 10, truth: true });
 * const depth = await fetch(`${sim.coinm.restUrl}/dapi/v1/depth?symbol=BTCUSD_PERP&limit=5`);
 * await depth.json(); // {"lastUpdateId":…,"symbol":"BTCUSD_PERP","pair":"BTCUSD",…}
 * // WebSocket: `${sim.spot.wsUrl}/stream?streams=btcusdt@depth@100ms`, `${sim.coinm.wsUrl}/ws/btcusd_perp@aggTrade`
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
  readonly coinm: MarketUrls;
  readonly startedAt: number;
  readonly faults: Faults;
  readonly truth: GroundTruth;
  readonly exchange: Exchange;
  readonly stats: SimulatorStats = { steps: 0, events: 0, framesSent: 0, connectionsOpened: 0 };
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #rest: RestApi;
  readonly #hub: WsHub;
  readonly #delivery: Delivery;
  readonly #listing: ListingTarget;
  readonly #wholeMarket: boolean;
  readonly #tickMs: number;
  readonly #recordTruth: boolean;
  readonly #truthFile: Deno.FsFile | null;
  readonly #truthLines: string[] = [];
  readonly #hangs = new Set<() => void>();
  #lastBurst = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: SimulatorOptions) {
    const seed = options.seed ?? 1;
    const now = this.startedAt = Date.now();
    const whole = this.#wholeMarket = options.symbols === "all";
    this.exchange = new Exchange({
      ...(options.symbols === "all"
        ? { listings: generateUniverse({ seed, size: options.universe, topRate: options.rate, now }) }
        : { symbols: options.symbols, changesPerSec: options.rate, tradesPerSec: options.tradesPerSec }),
      seed,
      levelsPerSide: options.levelsPerSide,
      historyLimit: options.historyLimit ?? (whole ? 10_000 : undefined),
      quietStepping: whole,
    }, now);
    this.faults = { ...noFaults(options.lifetimeMs), ...options.faults };
    this.#tickMs = options.tickMs ?? 10;
    this.#truthFile = options.truthFile === undefined
      ? null
      : Deno.openSync(options.truthFile, { write: true, create: true, truncate: true });
    this.#recordTruth = options.truth === true || this.#truthFile !== null;
    this.truth = new GroundTruth({
      memory: options.truth === true,
      windowMs: options.truthWindowMs ?? (whole ? 60_000 : undefined),
      sink: this.#truthFile === null ? undefined : (line) => this.#truthLines.push(line),
    });
    if (this.#recordTruth) {
      for (const e of this.exchange.engines()) this.truth.addSymbol(e.spec, e.initial);
    }
    this.#listing = {
      exchange: this.exchange,
      truth: this.truth,
      recordBooks: this.#recordTruth,
      startedAt: now,
      rollQuarters: whole,
    };

    this.#rest = new RestApi(this.exchange, this.faults, new Prng(hashSeed(seed, "rest")), {
      weightPerMinute: { ...DEFAULT_WEIGHT, ...options.weightPerMinute },
      banMs: options.banMs ?? 120_000,
    });
    this.#hub = new WsHub(this.faults, options.maxBufferedBytes ?? 64 * 1024 * 1024, this.stats);
    this.#delivery = new Delivery(this.#hub, this.faults, this.truth, new Prng(hashSeed(seed, "faults")));
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
    this.port = this.#server.addr.port;
    const base = `127.0.0.1:${this.port}`;
    this.spot = { restUrl: `http://${base}/spot`, wsUrl: `ws://${base}/spot` };
    this.usdm = { restUrl: `http://${base}/usdm`, wsUrl: `ws://${base}/usdm` };
    this.coinm = { restUrl: `http://${base}/coinm`, wsUrl: `ws://${base}/coinm` };
    this.#schedule(now);
  }

  connectionCount(market?: Market): number {
    return this.#hub.count(market);
  }

  disconnectAll(market?: Market): number {
    return this.#hub.disconnectAll(market, CLOSE_CODES.disconnect, "Simulated disconnect");
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#hub.close();
    for (const release of this.#hangs) release();
    await this.#server.shutdown();
    this.#flushTruth();
    this.#truthFile?.close();
  }

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
    if (f.listingChanges.length > 0) applyListingChanges(f.listingChanges, this.#listing, now);
    else applyDeliveries(this.#listing, now);
    // A whole market keeps stale book copies only while the fault can use them.
    this.exchange.control.saveStaleBooks = !this.#wholeMarket || f.staleSnapshots !== null;
    let burst: BurstRequest | null = null;
    if (f.burst !== null && isDue(f.burst, this.#lastBurst, now)) {
      burst = f.burst;
      this.#lastBurst = now;
      if (f.burst.everyMs === undefined) f.burst = null;
    }
    const events = this.exchange.step(now, burst);
    this.stats.steps++;
    this.stats.events += events.length;
    for (const ev of events) {
      if (this.#recordTruth) this.truth.record(ev);
      this.#delivery.dispatch(ev, now);
    }
    this.#delivery.afterStep(now);
    this.truth.prune(now);
    this.#flushTruth();
  }

  #flushTruth(): void {
    const file = this.#truthFile;
    if (file === null || this.#truthLines.length === 0) return;
    const bytes = new TextEncoder().encode(this.#truthLines.join("\n") + "\n");
    this.#truthLines.length = 0;
    for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const market = MARKETS.find((m) => url.pathname.startsWith(`/${m}/`));
    if (market === undefined) {
      return json(404, { code: -1000, msg: "Unknown path; use /spot/…, /usdm/… or /coinm/…" });
    }
    const path = url.pathname.slice(market.length + 1);
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.#hub.upgrade(req, market, path, url);
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
}
