/**
 * Offset and round-trip time of an exchange's server clock, measured around one `GET /time` request.
 * @module
 */

/** Anything that answers the server time in ms since the epoch (e.g. `RestClient.serverTime()`). */
export interface ServerTimeSource {
  serverTime(): Promise<{ value: number }>;
}

/** One server-time measurement. */
export interface ServerOffset {
  /** Server clock minus the local clock at the request's midpoint, ms. */
  offsetMs: number;
  /** Local time from sending the request to receiving the answer, ms. */
  rttMs: number;
  /** Local time (ms) when the answer arrived. */
  timeMs: number;
}

/**
 * Offset assuming the server read its clock halfway through the round trip (symmetric latency); the error of
 * that assumption is at most `rttMs / 2`.
 *
 * @example
 * ```ts
 * serverOffset(1000, 1120, 1040); // { offsetMs: 100, rttMs: 40, timeMs: 1040 }
 * ```
 */
export function serverOffset(sentMs: number, serverMs: number, receivedMs: number): ServerOffset {
  if (!(receivedMs >= sentMs)) {
    throw new RangeError(
      `Cannot compute a server offset: received at ${receivedMs} before sent at ${sentMs}`,
    );
  }
  return { offsetMs: serverMs - (sentMs + receivedMs) / 2, rttMs: receivedMs - sentMs, timeMs: receivedMs };
}

/**
 * Calls `source.serverTime()` and times it with `clockMs`. The time includes any wait in the client's request
 * queue: that widens `rttMs`, and the offset stays within ±`rttMs / 2` of the truth.
 */
export async function measureServerTime(
  source: ServerTimeSource,
  clockMs: () => number,
): Promise<ServerOffset> {
  const sent = clockMs();
  const { value } = await source.serverTime();
  return serverOffset(sent, value, clockMs());
}
