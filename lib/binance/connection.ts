/**
 * One logical market-data WebSocket connection for a {@link ConnectionPlan}: opens the combined-stream
 * endpoint, subscribes in paced batches, hands every data frame on raw with its local arrival time, and
 * reconnects with backoff until closed for good.
 *
 * The I/O shell around the pure pieces (backoff, pacer, frame sorting), and the lifecycle across sockets: each
 * socket's own state and subscribe bookkeeping is a {@link SocketSession}. Instances share nothing, so one
 * failing connection never stalls another, and the collector may run two for the same plan at once while it
 * rotates them.
 */
import { nowUs } from "../clock.ts";
import { classifyDisconnect, type RetryClass, upgradeStatus } from "./backoff.ts";
import type { CloseCause, StreamConnectionHandlers } from "./connection_handlers.ts";
import { ControlPacer, defaultPacing, type Pacing } from "./control_pacer.ts";
import { type ConnectBudget, ReconnectPolicy } from "./reconnect_policy.ts";
import { frameKind, parseReply } from "./socket_frames.ts";
import { SocketSession, type SubscribeSettings } from "./socket_session.ts";
import type { ConnectionPlan } from "./stream_plan.ts";

/** The WebSocket constructor (the native one by default; a fake in tests). */
export type WebSocketConstructor = new (url: string) => WebSocket;

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

type Timer = ReturnType<typeof setTimeout>;

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
  readonly #subscribe: SubscribeSettings;
  readonly #connectTimeoutMs: number;
  readonly #closeGraceMs: number;
  readonly #lifetimeNearMs: number;
  #session: SocketSession | null = null;
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
    const pacing = options.pacing ?? defaultPacing(options.plan.market);
    new ControlPacer(pacing); // validates the budget up front rather than at the first open
    this.#subscribe = {
      batches,
      streams: names.length,
      pacing,
      replyTimeoutMs: options.replyTimeoutMs ?? 10_000,
      resubscribeDelayMs: options.resubscribeDelayMs ?? 5_000,
      handlers: options.handlers,
    };
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
    return s.subscribed ? "subscribed" : "subscribing";
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
    const s = new SocketSession(this.#nextConnId(), ws, this.#subscribe);
    this.#session = s;
    s.later(this.#connectTimeoutMs, () => this.#abandon(s, { kind: "connectTimeout" }));
    ws.onopen = () => this.#opened(s);
    ws.onmessage = (ev: MessageEvent) => {
      const localUs = nowUs(); // first: the arrival time must not include our own processing
      if (s.ending !== null) return;
      const data: unknown = ev.data;
      if (typeof data !== "string") {
        this.#h.onBadFrame?.(s.connId, data as ArrayBuffer | Blob, localUs);
        return;
      }
      const kind = frameKind(data);
      if (kind === "data") {
        s.dataFrames++;
        this.#h.onFrame(data, localUs, s.connId);
      } else if (kind === "shutdown") {
        this.#serverShutdown(s);
      } else {
        const reply = parseReply(data); // a control frame is rare, so parsing it is fine
        if (reply === null) this.#h.onBadFrame?.(s.connId, data, localUs);
        else s.onReply(reply, localUs);
      }
    };
    ws.onerror = (ev: Event) => {
      s.error = ev instanceof ErrorEvent ? ev.message : "WebSocket error";
    };
    ws.onclose = (ev: CloseEvent) => this.#ended(s, ev.code, ev.reason, ev.wasClean);
  }

  /** The server announced it will close the socket: hand over (if the owner does) or reconnect now. */
  #serverShutdown(s: SocketSession): void {
    if (this.#h.onServerShutdown?.(s.connId)) return;
    this.#abandon(s, { kind: "serverShutdown" });
  }

  #opened(s: SocketSession): void {
    if (s.ending !== null) return;
    s.clearTimers(); // the connect timeout
    s.openedMs = performance.now();
    this.#budget?.opened();
    const openedUs = nowUs();
    this.#downSinceUs = NaN;
    const attempt = this.#attempt;
    this.#attempt = 0;
    this.#h.onOpen?.(s.connId, { url: this.plan.url, openedUs, attempt });
    s.later(this.#lifetimeNearMs, () => this.#h.onLifetimeNear?.(s.connId));
    s.subscribe(openedUs);
  }

  /** We give up on a socket: stop delivering its frames, close it, and wait (bounded) for its close event. */
  #abandon(s: SocketSession, cause: CloseCause, graceMs = this.#closeGraceMs): void {
    if (s.ending !== null) return;
    s.ending = cause;
    s.endingUs = nowUs();
    s.clearTimers();
    s.later(graceMs, () => this.#ended(s, 1006, "close timed out", false));
    s.ws.close(1000, cause.kind);
  }

  #ended(s: SocketSession, code: number, reason: string, wasClean: boolean): void {
    if (this.#session !== s) return;
    const localUs = nowUs();
    this.#session = null;
    s.clearTimers();
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
}
