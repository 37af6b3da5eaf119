/**
 * One socket of a `StreamConnection` (`connection.ts`): its state, its timers, and the SUBSCRIBE bookkeeping on
 * it (batches sent as fast as the pacer allows, requests in flight with their reply timeouts, acks counted,
 * refused or unanswered batches sent again).
 *
 * A reconnect makes a new session, so nothing of an old socket leaks into the next; the connection keeps the
 * lifecycle across sockets. Every timer of the socket is held here, so that giving it up cancels them all.
 * @module
 */
import type { CloseCause, StreamConnectionHandlers } from "./connection_handlers.ts";
import { ControlPacer, type Pacing } from "./control_pacer.ts";
import type { ControlReply } from "./socket_frames.ts";

/** What every session of one connection subscribes to, and how. */
export interface SubscribeSettings {
  /** The plan's stream names in batches, one SUBSCRIBE message per batch. */
  readonly batches: readonly string[][];
  /** Streams in all the batches. */
  readonly streams: number;
  readonly pacing: Pacing;
  readonly replyTimeoutMs: number;
  readonly resubscribeDelayMs: number;
  readonly handlers: Pick<StreamConnectionHandlers, "onSubscribed" | "onSubscribeFailed">;
}

type Timer = ReturnType<typeof setTimeout>;

interface Request {
  params: string[];
  timer: Timer;
}

/** State of one socket; a reconnect makes a new one. */
export class SocketSession {
  readonly #settings: SubscribeSettings;
  readonly #pacer: ControlPacer;
  /** performance.now() at open; NaN until then. */
  openedMs = NaN;
  dataFrames = 0;
  #nextRequestId = 1;
  readonly #queue: string[][] = [];
  readonly #pending = new Map<number, Request>();
  #ackedStreams = 0;
  /** Set once we give up on the socket; its frames are dropped from then on. */
  ending: CloseCause | null = null;
  endingUs = NaN;
  error: string | null = null;
  readonly #timers = new Set<Timer>();
  #pumpTimer: Timer | null = null;
  onEnded: (() => void) | null = null;

  constructor(readonly connId: number, readonly ws: WebSocket, settings: SubscribeSettings) {
    this.#settings = settings;
    this.#pacer = new ControlPacer(settings.pacing);
  }

  /** Whether every stream of the plan is acknowledged on this socket. */
  get subscribed(): boolean {
    return this.#ackedStreams === this.#settings.streams;
  }

  /** Subscribes the plan's streams on the socket, which has just opened. */
  subscribe(openedUs: number): void {
    const { streams, batches, handlers } = this.#settings;
    if (streams === 0) {
      handlers.onSubscribed?.(this.connId, { subscribedUs: openedUs, streams: 0 });
      return;
    }
    for (const batch of batches) this.#queue.push(batch);
    this.#pump();
  }

  /** Settles the request that a reply answers. */
  onReply(reply: ControlReply, localUs: number): void {
    const id = reply.id !== null && this.#pending.has(reply.id) ? reply.id : null;
    if (reply.error !== null) {
      // Binance may omit the id of an error; replies come in request order, so it is the oldest in flight.
      const target = id ?? this.#pending.keys().next().value;
      if (target !== undefined) this.#failed(target, reply.error.code, reply.error.msg);
    } else if (id !== null) {
      this.#acked(id, localUs);
    }
    // Anything else is a late reply to a request that already timed out and was sent again: nothing to do.
  }

  /** Runs `fn` after `ms` unless the session's timers are cleared first. */
  later(ms: number, fn: () => void): Timer {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  /** Cancels every timer of the socket and forgets the requests in flight. */
  clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#pumpTimer = null;
    for (const req of this.#pending.values()) clearTimeout(req.timer);
    this.#pending.clear();
  }

  /** Sends queued SUBSCRIBE batches as fast as the pacer allows. */
  #pump(): void {
    if (this.#pumpTimer !== null) {
      clearTimeout(this.#pumpTimer);
      this.#timers.delete(this.#pumpTimer);
      this.#pumpTimer = null;
    }
    const { replyTimeoutMs } = this.#settings;
    while (this.#queue.length > 0 && this.ending === null && this.ws.readyState === WebSocket.OPEN) {
      const now = performance.now();
      const wait = this.#pacer.waitMs(now);
      if (wait > 0) {
        this.#pumpTimer = this.later(wait, () => {
          this.#pumpTimer = null;
          this.#pump();
        });
        return;
      }
      const params = this.#queue.shift()!;
      const id = this.#nextRequestId++;
      this.ws.send(JSON.stringify({ method: "SUBSCRIBE", params, id }));
      this.#pacer.record(now);
      const timer = this.later(
        replyTimeoutMs,
        () => this.#failed(id, null, `no reply within ${replyTimeoutMs} ms`),
      );
      this.#pending.set(id, { params, timer });
    }
  }

  /** Takes request `id` out of flight and cancels its reply timeout; undefined when it is not in flight. */
  #settle(id: number): Request | undefined {
    const req = this.#pending.get(id);
    if (req === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(req.timer);
    this.#timers.delete(req.timer);
    return req;
  }

  #acked(id: number, localUs: number): void {
    const req = this.#settle(id)!;
    this.#ackedStreams += req.params.length;
    const { streams, handlers } = this.#settings;
    if (this.#ackedStreams === streams) {
      handlers.onSubscribed?.(this.connId, { subscribedUs: localUs, streams });
    }
  }

  #failed(id: number, code: number | null, msg: string): void {
    const req = this.#settle(id);
    if (req === undefined) return;
    const { resubscribeDelayMs: retryInMs, handlers } = this.#settings;
    handlers.onSubscribeFailed?.(this.connId, { requestId: id, params: req.params, code, msg, retryInMs });
    this.later(retryInMs, () => {
      this.#queue.push(req.params);
      this.#pump();
    });
  }
}
