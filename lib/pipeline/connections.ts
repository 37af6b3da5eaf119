/**
 * The WebSocket connections of one market: one slot per connection plan, each with its active connection and,
 * while rotating (24 h cut, spot `serverShutdown`), a replacement that takes over once it is in sync. Socket
 * events become journal records; the liveness watchdog's verdicts too. Decisions about data stay in the
 * normalizer: a handover happens only when it says the replacement is in sync.
 * @module
 */
import { StreamConnection, type WebSocketConstructor } from "../binance/connection.ts";
import { staleAfterMs, type StreamLiveness } from "../binance/liveness.ts";
import type { ConnectBudget, ReconnectPolicy } from "../binance/reconnect_policy.ts";
import type { ConnectionPlan, PlannedStream, StreamPlan } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";
import type { Clock } from "../clock.ts";
import type { Logger, RateLimitedLog } from "../log.ts";
import type { MarketNormalizer } from "./normalizer.ts";
import { type JournalRecord, RecordKind } from "./records.ts";

/** How long a stop waits for each socket's close frame. */
const STOP_GRACE_MS = 500;

/** A connection went down or came back (for alerts). */
export type ConnectionAlert =
  | { kind: "disconnect"; market: Market; conn: string; cause: string }
  | { kind: "reconnect"; market: Market; conn: string; downtimeMs: number };

/** What the connections of a market need from the collector. */
export interface ConnectionDeps {
  market: Market;
  plan: StreamPlan;
  normalizer: MarketNormalizer;
  liveness: StreamLiveness;
  budget: ConnectBudget;
  /** Journals a record and hands it to the normalizer. */
  record(rec: JournalRecord): void;
  /** Connection ids are unique across markets (the journal keys records by them). */
  nextConnId(): number;
  /** True once the collector stops: closes are then not disconnects. */
  stopping(): boolean;
  log: Logger;
  badFrames: RateLimitedLog;
  clock: Clock;
  onAlert?(alert: ConnectionAlert): void;
  /** A stream went quiet for longer than its cadence allows (its symbol may have stopped trading). */
  onStale?(stream: PlannedStream): void;
  webSocket?: WebSocketConstructor;
  reconnect?: ReconnectPolicy;
  /** Age at which a connection gets a replacement. */
  lifetimeMs: number;
  /** Time the replacement has to get in sync before the server cuts the old one. */
  rotateLeadMs: number;
}

/** A plan's connection and, while rotating, its replacement. */
export interface Slot {
  plan: ConnectionPlan;
  active: StreamConnection;
  replacement: StreamConnection | null;
  /** Arrival of the last frame on any of the slot's sockets (NaN before the first). */
  lastFrameUs: number;
}

/** The connections of one market. */
export class MarketConnections {
  readonly slots: Slot[] = [];
  /** Connections closed in the journal at a handover, before their socket finished closing. */
  readonly #handedOver = new Set<number>();

  constructor(private readonly d: ConnectionDeps) {}

  /** Opens a connection for every plan that has none yet (all at start; new ones after the plan grew). */
  open(): void {
    for (const plan of this.d.plan.connections) {
      if (this.slots.some((s) => s.plan === plan)) continue;
      const slot: Slot = {
        plan,
        active: undefined as unknown as StreamConnection,
        replacement: null,
        lastFrameUs: NaN,
      };
      slot.active = this.#connect(slot);
      this.slots.push(slot);
      slot.active.start();
    }
  }

  /**
   * Closes every connection for good. Frames a socket delivers after this are not read anyway, so the server's
   * close frames are waited for half a second at most: a stop must not wait on a busy server.
   */
  async close(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const s of this.slots) {
      closing.push(s.active.close(STOP_GRACE_MS));
      if (s.replacement) closing.push(s.replacement.close(STOP_GRACE_MS));
    }
    await Promise.all(closing);
  }

  /** The slot carrying stream `index`, if any. */
  slotOf(index: number): Slot | undefined {
    return this.slots.find((s) => s.plan.streams.some((ps) => ps.index === index));
  }

  /**
   * Once a second: journals streams the watchdog finds stale (reconnecting a socket whose cadence streams went
   * quiet), and hands a slot over to its replacement once the normalizer says the replacement is in sync.
   */
  housekeeping(nowUs: number): void {
    const { stale } = this.d.liveness.check(nowUs);
    for (const index of stale) {
      const ps = this.d.plan.streams[index]!;
      this.d.record({
        localUs: nowUs,
        market: this.d.market,
        conn: 0,
        kind: RecordKind.Stale,
        symbol: "",
        text: ps.name,
      });
      this.d.onStale?.(ps);
      // Streams with a fixed cadence never go quiet on a healthy socket: reconnect the socket when it went
      // quiet as a whole. One quiet stream on a socket that delivers the others is its symbol's silence (a
      // halt), which a reconnect would not cure but would cost every other stream on it a gap.
      if (ps.kind === "kline" || ps.kind === "markPrice") {
        const slot = this.slotOf(index);
        const quietUs = slot === undefined ? 0 : nowUs - slot.lastFrameUs;
        if (slot && !(quietUs < (staleAfterMs(ps) ?? 0) * 1000)) {
          slot.active.reconnect(`stream ${ps.name} is stale`);
        }
      }
    }
    for (const slot of this.slots) {
      const id = slot.replacement?.connId;
      if (id != null && this.d.normalizer.connectionInSync(id)) {
        this.d.log("info", "rotated connection without a gap", {
          market: this.d.market,
          plan: slot.plan.key,
          conn: id,
        });
        this.#promote(slot);
      }
    }
  }

  #connect(slot: Slot): StreamConnection {
    const { market, log, record } = this.d;
    // When the connection's socket went down, until one opens again (for the reconnect alert's downtime).
    let downSinceUs: number | null = null;
    const label = `${slot.plan.key} (${[...new Set(slot.plan.streams.map((s) => s.symbol))].join(",")})`;
    const conn: StreamConnection = new StreamConnection({
      plan: slot.plan,
      nextConnId: this.d.nextConnId,
      webSocket: this.d.webSocket,
      budget: this.d.budget,
      reconnect: this.d.reconnect,
      lifetimeMs: this.d.lifetimeMs + this.d.rotateLeadMs,
      rotateLeadMs: this.d.rotateLeadMs,
      handlers: {
        onFrame: (text, localUs, connId) => {
          slot.lastFrameUs = localUs;
          record({ localUs, market, conn: connId, kind: RecordKind.Frame, symbol: "", text });
        },
        onOpen: (connId, info) => {
          record({
            localUs: info.openedUs,
            market,
            conn: connId,
            kind: RecordKind.ConnOpen,
            symbol: "",
            text: slot.plan.key,
          });
          log("info", "connected", { market, plan: slot.plan.key, conn: connId, attempt: info.attempt });
          if (downSinceUs !== null) {
            this.d.onAlert?.({
              kind: "reconnect",
              market,
              conn: label,
              downtimeMs: Math.round((info.openedUs - downSinceUs) / 1000),
            });
            downSinceUs = null;
          }
        },
        onSubscribed: (connId, info) => {
          record({
            localUs: info.subscribedUs,
            market,
            conn: connId,
            kind: RecordKind.Subscribed,
            symbol: "",
            text: "",
          });
          log("info", "subscribed", { market, plan: slot.plan.key, conn: connId, streams: info.streams });
        },
        onSubscribeFailed: (connId, f) => {
          log("warn", "subscribe failed", {
            market,
            conn: connId,
            code: f.code,
            msg: f.msg,
            retryInMs: f.retryInMs,
          });
        },
        onClose: (connId, info) => {
          // A clean stop is not a disconnect: the Shutdown record ends the run instead.
          if (this.d.stopping()) return;
          // A connection handed over to its replacement was already closed in the journal (see #promote).
          if (info.opened && !this.#handedOver.delete(connId)) {
            record({
              localUs: info.downSinceUs,
              market,
              conn: connId,
              kind: RecordKind.ConnClose,
              symbol: "",
              text: `${info.cause.kind} code=${info.code} ${info.reason}`.trim(),
            });
          }
          if (info.opened && slot.active === conn && !slot.replacement) {
            downSinceUs = info.downSinceUs;
            this.d.onAlert?.({ kind: "disconnect", market, conn: label, cause: info.cause.kind });
          }
          log("warn", "disconnected", {
            market,
            plan: slot.plan.key,
            conn: connId,
            cause: info.cause.kind,
            status: info.cause.kind === "error" ? info.cause.status : undefined,
            retry: info.retry,
            reconnectInMs: info.reconnectInMs,
          });
          // The active socket died while a replacement is already up: let the replacement carry on alone.
          if (slot.active === conn && slot.replacement) this.#promote(slot);
        },
        onLifetimeNear: (connId) => {
          this.#replace(slot, conn, connId, "connection nears its lifetime");
        },
        // Keep reading the announced socket until a replacement is in sync, as at the 24 h cut.
        onServerShutdown: (connId) => this.#replace(slot, conn, connId, "server announced shutdown"),
        onBadFrame: (connId, frame) => {
          this.d.badFrames.write("warn", "non-text or unknown frame", {
            market,
            conn: connId,
            type: typeof frame,
          });
        },
      },
    });
    return conn;
  }

  /** Opens a replacement for the slot's active connection; true when one is (now) running. */
  #replace(slot: Slot, conn: StreamConnection, connId: number, why: string): boolean {
    if (this.d.stopping() || slot.active !== conn) return false;
    if (slot.replacement) return true;
    this.d.log("info", `${why}: opening a replacement`, {
      market: this.d.market,
      plan: slot.plan.key,
      conn: connId,
    });
    slot.replacement = this.#connect(slot);
    slot.replacement.start();
    return true;
  }

  /** The replacement takes over; the old connection is closed for good. */
  #promote(slot: Slot): void {
    const old = slot.active;
    slot.active = slot.replacement!;
    slot.replacement = null;
    // Journal the close now, in the same step as the readiness check that allowed it: once `close()` starts,
    // the old socket delivers nothing more, and frames the replacement brings meanwhile must not count against
    // the handover.
    const oldId = old.connId;
    if (oldId !== null && old.state !== "waiting" && old.state !== "stopped") {
      this.#handedOver.add(oldId);
      this.d.record({
        localUs: this.d.clock.nowUs(),
        market: old.plan.market,
        conn: oldId,
        kind: RecordKind.ConnClose,
        symbol: "",
        text: "handed over to its replacement",
      });
    }
    void old.close();
  }
}
