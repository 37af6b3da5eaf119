/**
 * What a `StreamConnection` (`connection.ts`) tells its owner: the handler callbacks and the records they carry.
 * A module of their own, so that the owner and the per-socket session name them without the reconnect lifecycle.
 * @module
 */
import type { DisconnectCause, RetryClass } from "./backoff.ts";

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

/** Why a socket ended: a {@link DisconnectCause}, or `stopped` by `StreamConnection.close`. */
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
