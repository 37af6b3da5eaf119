/**
 * One logical market-data WebSocket connection for a {@link ConnectionPlan}: opens the combined-stream
 * endpoint, subscribes in paced batches, hands every data frame on raw with its local arrival time, and
 * reconnects with backoff until closed for good.
 *
 * The I/O shell around the pure pieces (backoff, pacer). Instances share nothing, so one failing connection
 * never stalls another, and the collector may run two for the same plan at once while it rotates them.
 */
import { nowUs } from "../clock.ts";
import { classifyDisconnect, type DisconnectCause, type RetryClass, upgradeStatus } from "./backoff.ts";
import { ControlPacer, defaultPacing, type Pacing } from "./control_pacer.ts";
import { type ConnectBudget, ReconnectPolicy } from "./reconnect_policy.ts";
import type { ConnectionPlan } from "./stream_plan.ts";

/** The WebSocket constructor (the native one by default; a fake in tests). */
export type WebSocketConstructor = new (url: string) => WebSocket;

/** A socket came up. */
export interface OpenInfo {
  url: string;
  openedUs: number;
  /** Attempts it took since the connection was last up (1 = first try). */
  attempt: number;
}

/** Every stream of the plan is subscribed. */
export interface SubscribedInfo {
  subscribedUs: number;
  streams: number;
}

/** Binance refused (or did not answer) a SUBSCRIBE; the batch is sent again after `retryInMs`. */
export interface SubscribeFailure {
  requestId: number;
  params: readonly string[];
  /** Binance's error code; null when the request timed out. */
  code: number | null;
  msg: string;
  retryInMs: number;
}

/** Why a socket ended: a {@link DisconnectCause}, or `stopped` by {@link StreamConnection.close}. */
export type CloseCause = DisconnectCause | { kind: "stopped" };

/** A socket went away (or an attempt failed). */
export interface CloseInfo {
  /** WebSocket close code (0 when the socket never opened). */
  code: number;
  reason: string;
  wasClean: boolean;
  /**
   * Local time (µs) since which the connection has delivered nothing trustworthy: when it closed or we gave up
   * on it; for a failed reconnect attempt, still the time the last good socket went down.
   */
  downSinceUs: number;
  /** Whether this socket ever opened. */
  opened: boolean;
  cause: CloseCause;
  /** How the reconnect is paced; null when stopped. */
  retry: RetryClass | null;
  /** Delay before the next attempt; null when stopped. */
  reconnectInMs: number | null;
}

/**
 * Callbacks. They run synchronously inside socket events and must not throw. `connId` is the id of the socket
 * the event belongs to; every (re)connect gets a new one.
 */
export interface StreamConnectionHandlers {
  /** A data frame (`{"stream":…}`), unparsed, with its arrival time taken before anything else. Hot path. */
  onFrame(text: string, localUs: number, connId: number): void;
  /** The socket opened; frames of `connId` may follow (before {@link onSubscribed}, batch by batch). */
  onOpen?(connId: number, info: OpenInfo): void;
  /** All streams of the plan acknowledged on this socket. */
  onSubscribed?(connId: number, info: SubscribedInfo): void;
  onSubscribeFailed?(connId: number, failure: SubscribeFailure): void;
  /** The socket ended; runs before any reconnect attempt starts. */
  onClose?(connId: number, info: CloseInfo): void;
  /** The socket nears its lifetime (`lifetimeMs - rotateLeadMs` after open): time to open a replacement. */
  onLifetimeNear?(connId: number): void;
  /**
   * Spot `serverShutdown` arrived. Return true when a replacement is being opened: the socket then stays open
   * until the server closes it (or the owner does); otherwise it is dropped and reconnected at once.
   */
  onServerShutdown?(connId: number): boolean;
  /** A frame that is neither data nor a control reply (binary, unparsable, unknown shape). Never fatal. */
  onBadFrame?(connId: number, frame: string | ArrayBuffer | Blob, localUs: number): void;
}

/** Options for {@link StreamConnection}. */
export interface StreamConnectionOptions {
  plan: ConnectionPlan;
  /** Allocates connection ids (the collector journals them). */
  nextConnId: () => number;
  handlers: StreamConnectionHandlers;
  /** @default globalThis.WebSocket */
  webSocket?: WebSocketConstructor;
  /** Reconnect delays. @default new ReconnectPolicy() */
  reconnect?: ReconnectPolicy;
  /**
   * Connection attempts shared by the connections of one market (Binance limits them per IP); one that gets
   * through wakes the others. @default none (no limit, no waking)
   */
  budget?: ConnectBudget;
  /** Streams per SUBSCRIBE message. @default 200 */
  batchSize?: number;
  /** Control-message budget. @default defaultPacing(plan.market) */
  pacing?: Pacing;
  /** A SUBSCRIBE without a reply for this long counts as failed. @default 10_000 */
  replyTimeoutMs?: number;
  /** Delay before a failed batch is sent again. @default 5_000 */
  resubscribeDelayMs?: number;
  /** An upgrade that takes longer is abandoned. @default 10_000 */
  connectTimeoutMs?: number;
  /** After we close a socket, how long to wait for its close event before moving on. @default 5_000 */
  closeGraceMs?: number;
  /** Server-side connection lifetime. @default 86_400_000 (24 h) */
  lifetimeMs?: number;
  /** How long before the lifetime ends {@link StreamConnectionHandlers.onLifetimeNear} fires. @default 900_000 */
  rotateLeadMs?: number;
}

/** Where a connection stands. */
export type ConnectionState =
  | "idle"
  | "connecting"
  | "subscribing"
  | "subscribed"
  | "closing"
  | "waiting"
  | "stopped";

// Binance writes these keys first; a frame that starts otherwise is not data (see #control).
const DATA_PREFIX = '{"stream":';
const SHUTDOWN_COMBINED = '{"stream":"!serverShutdown"';
const SHUTDOWN_RAW = '{"e":"serverShutdown"';
const BANG = 33; // "!" right after DATA_PREFIX + '"': only `!`-streams, such as serverShutdown, have it

type Timer = ReturnType<typeof setTimeout>;

interface Request {
  params: string[];
  timer: Timer;
}

/** State of one socket; a reconnect makes a new one. */
interface Session {
  readonly connId: number;
  readonly ws: WebSocket;
  readonly pacer: ControlPacer;
  /** performance.now() at open; NaN until then. */
  openedMs: number;
  dataFrames: number;
  nextRequestId: number;
  readonly queue: string[][];
  readonly pending: Map<number, Request>;
  acked: number;
  /** Set once we give up on the socket; its frames are dropped from then on. */
  ending: CloseCause | null;
  endingUs: number;
  error: string | null;
  readonly timers: Set<Timer>;
  pumpTimer: Timer | null;
  onEnded: (() => void) | null;
}

/**
 * A self-healing subscription to one plan's streams.
 *
 * @example
 * ```ts
 * import { planStreams } from "./stream_plan.ts";
 *
 * const plan = planStreams({
 *   market: "spot", wsUrl: "wss://data-stream.binance.vision", symbols: ["BTCUSDT"], streams: ["aggTrade"],
 * });
 * let lastId = 0;
 * const frames: string[] = [];
 * const conn = new StreamConnection({
 *   plan: plan.connections[0]!,
 *   nextConnId: () => ++lastId,
 *   handlers: { onFrame: (text) => frames.push(text) },
 * });
 * conn.state; // "idle" until conn.start(); `await conn.close()` stops it for good
 * ```
 */
export class StreamConnection {
  readonly plan: ConnectionPlan;
  readonly #nextConnId: () => number;
  readonly #h: StreamConnectionHandlers;
  readonly #WebSocket: WebSocketConstructor;
  readonly #policy: ReconnectPolicy;
  readonly #budget: ConnectBudget | null;
  readonly #batches: readonly string[][];
  readonly #pacing: Pacing;
  readonly #replyTimeoutMs: number;
  readonly #resubscribeDelayMs: number;
  readonly #connectTimeoutMs: number;
  readonly #closeGraceMs: number;
  readonly #lifetimeNearMs: number;
  #session: Session | null = null;
  #reconnectTimer: Timer | null = null;
  /** Unregisters the wake-up by another connection that got through, while waiting to reconnect. */
  #unwake: (() => void) | null = null;
  /** performance.now() when the current outage began (a healthy socket went down, or start). */
  #outageStartMs = NaN;
  #stopped = false;
  #started = false;
  #attempt = 0;
  /** NaN while a socket is up; otherwise when the connection went down (or was started). */
  #downSinceUs = NaN;

  constructor(options: StreamConnectionOptions) {
    const batchSize = options.batchSize ?? 200;
    const lifetimeMs = options.lifetimeMs ?? 86_400_000;
    const rotateLeadMs = options.rotateLeadMs ?? 900_000;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `Cannot create connection: batchSize must be a positive integer: current value is ${batchSize}`,
      );
    }
    if (!(rotateLeadMs >= 0 && lifetimeMs > rotateLeadMs)) {
      throw new RangeError(
        `Cannot create connection: need 0 <= rotateLeadMs < lifetimeMs: current values are ${rotateLeadMs}, ${lifetimeMs}`,
      );
    }
    this.plan = options.plan;
    this.#nextConnId = options.nextConnId;
    this.#h = options.handlers;
    this.#WebSocket = options.webSocket ?? WebSocket;
    this.#policy = options.reconnect ?? new ReconnectPolicy();
    this.#budget = options.budget ?? null;
    const names = options.plan.streams.map((s) => s.name);
    const batches: string[][] = [];
    for (let at = 0; at < names.length; at += batchSize) batches.push(names.slice(at, at + batchSize));
    this.#batches = batches;
    this.#pacing = options.pacing ?? defaultPacing(options.plan.market);
    new ControlPacer(this.#pacing); // validates the budget up front rather than at the first open
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
    this.#resubscribeDelayMs = options.resubscribeDelayMs ?? 5_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#closeGraceMs = options.closeGraceMs ?? 5_000;
    this.#lifetimeNearMs = lifetimeMs - rotateLeadMs;
  }

  /** Id of the current socket; null while waiting to reconnect or stopped. */
  get connId(): number | null {
    return this.#session?.connId ?? null;
  }

  /** Where the connection stands. */
  get state(): ConnectionState {
    if (this.#stopped) return "stopped";
    const s = this.#session;
    if (s === null) return this.#started ? "waiting" : "idle";
    if (s.ending !== null) return "closing";
    if (Number.isNaN(s.openedMs)) return "connecting";
    return s.acked === this.plan.streams.length ? "subscribed" : "subscribing";
  }

  /** Opens the first socket. Calling it again has no effect. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#downSinceUs = nowUs();
    this.#outageStartMs = performance.now();
    this.#attemptNow();
  }

  /**
   * Drops the current socket and reconnects through the normal backoff path (e.g. the liveness watchdog found
   * streams stale). No effect while no socket is up or being opened.
   */
  reconnect(reason: string): void {
    const s = this.#session;
    if (s !== null && !this.#stopped) this.#abandon(s, { kind: "forced", reason });
  }

  /**
   * Stops for good: closes the socket (reported to `onClose` with cause `stopped`) and never reconnects. Waits
   * at most `graceMs` (default: the close grace) for the server's close frame.
   */
  close(graceMs?: number): Promise<void> {
    this.#stopped = true;
    this.#cancelReconnect();
    const s = this.#session;
    if (s === null) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = s.onEnded;
      s.onEnded = () => {
        previous?.();
        resolve();
      };
      this.#abandon(s, { kind: "stopped" }, graceMs);
    });
  }

  /** Reconnects after `delayMs`, or at once when another connection of the market gets through meanwhile. */
  #scheduleReconnect(delayMs: number): void {
    this.#cancelReconnect();
    this.#reconnectTimer = setTimeout(() => this.#attemptNow(), delayMs);
    this.#unwake = this.#budget?.onOpened(() => {
      // The server accepts again: come back now, spread over a few hundred ms so the market's sockets do not
      // all arrive in the same instant.
      this.#cancelReconnect();
      this.#reconnectTimer = setTimeout(() => this.#attemptNow(), Math.random() * 250);
    }) ?? null;
  }

  #cancelReconnect(): void {
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#unwake?.();
    this.#unwake = null;
  }

  /** Opens a socket when the market's attempt budget allows, else when it will. */
  #attemptNow(): void {
    this.#cancelReconnect();
    if (this.#stopped) return;
    const now = performance.now();
    const wait = this.#budget?.waitMs(now) ?? 0;
    if (wait > 0) {
      this.#reconnectTimer = setTimeout(() => this.#attemptNow(), wait);
      return;
    }
    this.#budget?.take(now);
    this.#connect();
  }

  #connect(): void {
    this.#attempt++;
    const ws = new this.#WebSocket(this.plan.url);
    ws.binaryType = "arraybuffer";
    const s: Session = {
      connId: this.#nextConnId(),
      ws,
      pacer: new ControlPacer(this.#pacing),
      openedMs: NaN,
      dataFrames: 0,
      nextRequestId: 1,
      queue: [],
      pending: new Map(),
      acked: 0,
      ending: null,
      endingUs: NaN,
      error: null,
      timers: new Set(),
      pumpTimer: null,
      onEnded: null,
    };
    this.#session = s;
    this.#later(s, this.#connectTimeoutMs, () => this.#abandon(s, { kind: "connectTimeout" }));
    ws.onopen = () => this.#opened(s);
    ws.onmessage = (ev: MessageEvent) => {
      const localUs = nowUs(); // first: the arrival time must not include our own processing
      if (s.ending !== null) return;
      const data: unknown = ev.data;
      if (typeof data !== "string") {
        this.#h.onBadFrame?.(s.connId, data as ArrayBuffer | Blob, localUs);
      } else if (data.startsWith(DATA_PREFIX)) {
        if (data.charCodeAt(DATA_PREFIX.length + 1) === BANG && data.startsWith(SHUTDOWN_COMBINED)) {
          this.#serverShutdown(s);
          return;
        }
        s.dataFrames++;
        this.#h.onFrame(data, localUs, s.connId);
      } else {
        this.#control(s, data, localUs);
      }
    };
    ws.onerror = (ev: Event) => {
      s.error = ev instanceof ErrorEvent ? ev.message : "WebSocket error";
    };
    ws.onclose = (ev: CloseEvent) => this.#ended(s, ev.code, ev.reason, ev.wasClean);
  }

  /** The server announced it will close the socket: hand over (if the owner does) or reconnect now. */
  #serverShutdown(s: Session): void {
    if (this.#h.onServerShutdown?.(s.connId)) return;
    this.#abandon(s, { kind: "serverShutdown" });
  }

  #opened(s: Session): void {
    if (s.ending !== null) return;
    for (const t of s.timers) clearTimeout(t); // the connect timeout
    s.timers.clear();
    s.openedMs = performance.now();
    this.#budget?.opened();
    const openedUs = nowUs();
    this.#downSinceUs = NaN;
    const attempt = this.#attempt;
    this.#attempt = 0;
    this.#h.onOpen?.(s.connId, { url: this.plan.url, openedUs, attempt });
    this.#later(s, this.#lifetimeNearMs, () => this.#h.onLifetimeNear?.(s.connId));
    if (this.plan.streams.length === 0) {
      this.#h.onSubscribed?.(s.connId, { subscribedUs: openedUs, streams: 0 });
      return;
    }
    for (const batch of this.#batches) s.queue.push(batch);
    this.#pump(s);
  }

  /** Sends queued SUBSCRIBE batches as fast as the pacer allows. */
  #pump(s: Session): void {
    if (s.pumpTimer !== null) {
      clearTimeout(s.pumpTimer);
      s.timers.delete(s.pumpTimer);
      s.pumpTimer = null;
    }
    while (s.queue.length > 0 && s.ending === null && s.ws.readyState === WebSocket.OPEN) {
      const now = performance.now();
      const wait = s.pacer.waitMs(now);
      if (wait > 0) {
        s.pumpTimer = this.#later(s, wait, () => {
          s.pumpTimer = null;
          this.#pump(s);
        });
        return;
      }
      const params = s.queue.shift()!;
      const id = s.nextRequestId++;
      s.ws.send(JSON.stringify({ method: "SUBSCRIBE", params, id }));
      s.pacer.record(now);
      const timer = this.#later(
        s,
        this.#replyTimeoutMs,
        () => this.#failed(s, id, null, `no reply within ${this.#replyTimeoutMs} ms`),
      );
      s.pending.set(id, { params, timer });
    }
  }

  /**
   * A frame that is not stream data: a control reply (`{"result":…,"id":N}`, `{"code":N,"msg":…}`) or the raw
   * serverShutdown event. Rare, so parsing it is fine.
   */
  #control(s: Session, text: string, localUs: number): void {
    if (text.startsWith(SHUTDOWN_RAW)) {
      this.#serverShutdown(s);
      return;
    }
    let reply: unknown = null;
    if (
      text.startsWith('{"result"') || text.startsWith('{"id"') || text.startsWith('{"code"') ||
      text.startsWith('{"error"')
    ) {
      try {
        reply = JSON.parse(text);
      } catch {
        reply = null;
      }
    }
    if (typeof reply !== "object" || reply === null) {
      this.#h.onBadFrame?.(s.connId, text, localUs);
      return;
    }
    const r = reply as Record<string, unknown>;
    // Spot wraps errors as {"error":{"code":2,"msg":…},"id":N}; USD-M sends them flat.
    const err = typeof r.error === "object" && r.error !== null ? r.error as Record<string, unknown> : r;
    const id = typeof r.id === "number" && s.pending.has(r.id) ? r.id : null;
    if (typeof err.code === "number") {
      // Binance may omit the id of an error; replies come in request order, so it is the oldest in flight.
      const target = id ?? s.pending.keys().next().value;
      if (target !== undefined) this.#failed(s, target, err.code, typeof err.msg === "string" ? err.msg : "");
    } else if (id !== null) {
      this.#acked(s, id, localUs);
    }
    // Anything else is a late reply to a request that already timed out and was sent again: nothing to do.
  }

  #acked(s: Session, id: number, localUs: number): void {
    const req = s.pending.get(id)!;
    s.pending.delete(id);
    clearTimeout(req.timer);
    s.timers.delete(req.timer);
    s.acked += req.params.length;
    const total = this.plan.streams.length;
    if (s.acked === total) this.#h.onSubscribed?.(s.connId, { subscribedUs: localUs, streams: total });
  }

  #failed(s: Session, id: number, code: number | null, msg: string): void {
    const req = s.pending.get(id);
    if (req === undefined) return;
    s.pending.delete(id);
    clearTimeout(req.timer);
    s.timers.delete(req.timer);
    const retryInMs = this.#resubscribeDelayMs;
    this.#h.onSubscribeFailed?.(s.connId, { requestId: id, params: req.params, code, msg, retryInMs });
    this.#later(s, retryInMs, () => {
      s.queue.push(req.params);
      this.#pump(s);
    });
  }

  /** We give up on a socket: stop delivering its frames, close it, and wait (bounded) for its close event. */
  #abandon(s: Session, cause: CloseCause, graceMs = this.#closeGraceMs): void {
    if (s.ending !== null) return;
    s.ending = cause;
    s.endingUs = nowUs();
    this.#clearTimers(s);
    this.#later(s, graceMs, () => this.#ended(s, 1006, "close timed out", false));
    s.ws.close(1000, cause.kind);
  }

  #ended(s: Session, code: number, reason: string, wasClean: boolean): void {
    if (this.#session !== s) return;
    const localUs = nowUs();
    this.#session = null;
    this.#clearTimers(s);
    s.ws.onopen =
      s.ws.onmessage =
      s.ws.onerror =
      s.ws.onclose =
        null;
    const cause: CloseCause = s.ending ??
      (s.error !== null
        ? { kind: "error", message: s.error, status: upgradeStatus(s.error) }
        : { kind: "closed", code, reason });
    if (Number.isNaN(this.#downSinceUs)) this.#downSinceUs = s.ending !== null ? s.endingUs : localUs;
    const opened = !Number.isNaN(s.openedMs);
    const nowMs = performance.now();
    // A healthy socket going down starts a new outage; one that opened and died at once continues the last.
    if (opened && s.dataFrames > 0 && nowMs - s.openedMs >= this.#policy.healthyAfterMs) {
      this.#outageStartMs = nowMs;
    }
    let retry: RetryClass | null = null;
    let delay: number | null = null;
    if (!this.#stopped && cause.kind !== "stopped") {
      retry = classifyDisconnect(cause);
      delay = this.#policy.delayMs(retry, nowMs - this.#outageStartMs);
      this.#scheduleReconnect(delay);
    }
    this.#h.onClose?.(s.connId, {
      code,
      reason,
      wasClean,
      downSinceUs: this.#downSinceUs,
      opened,
      cause,
      retry,
      reconnectInMs: delay,
    });
    s.onEnded?.();
  }

  #later(s: Session, ms: number, fn: () => void): Timer {
    const t = setTimeout(() => {
      s.timers.delete(t);
      fn();
    }, ms);
    s.timers.add(t);
    return t;
  }

  #clearTimers(s: Session): void {
    for (const t of s.timers) clearTimeout(t);
    s.timers.clear();
    s.pumpTimer = null;
    for (const req of s.pending.values()) clearTimeout(req.timer);
    s.pending.clear();
  }
}
