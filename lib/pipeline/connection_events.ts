/**
 * What connection records do to the streams of one market (part of the normalizer, normalizer.ts; pure): a
 * connection opening or subscribing attaches its streams' cursors; one closing detaches them, and a stream no
 * other connection covers gets a disconnect gap and its book restarts; a stream silent too long gets a stale
 * gap; a clean stop ends every gap; a crash opens one on every stream that was recorded.
 * @module
 */

import type { ConnectionRegistry } from "./connection_registry.ts";
import type { GapKeeper } from "./gap_keeper.ts";
import { silentSinceUs, type StreamState } from "./stream_state.ts";

/** The normalizer's parts the connection records act on. */
export interface ConnectionEventParts {
  conns: ConnectionRegistry;
  /** Every stream of the market, by plan index (grows as the plan does). */
  states: readonly StreamState[];
  gaps: GapKeeper;
  /** Normalizes what a stream's cursor released (frames held back while connections overlapped). */
  drain(st: StreamState): void;
}

/** Applies connection records to the streams they carry. */
export class ConnectionEvents {
  constructor(private readonly p: ConnectionEventParts) {}

  /** Connection `conn` opened for the plan named by `key`. */
  opened(conn: number, key: string): void {
    const streams = this.p.conns.open(conn, key);
    if (!streams) return;
    for (const st of streams) {
      st.cursor.attach(conn);
      st.downSinceUs = NaN;
    }
  }

  /** Connection `conn`'s subscription was confirmed at `localUs`. */
  subscribed(conn: number, localUs: number): void {
    for (const st of this.p.conns.streamsOf(conn) ?? []) {
      st.cursor.attach(conn, localUs);
      // Liquidations can be silent for hours and carry no sequence: what the outage missed ends once the new
      // subscription carries the stream, not at the next liquidation.
      if (st.ps.kind === "forceOrder" && st.gap?.kind === "disconnect") {
        this.p.gaps.close(st, localUs, null);
      }
    }
  }

  /** Connection `conn` closed at `localUs` (`why`: the close record's text). */
  closed(conn: number, localUs: number, why: string): void {
    const closed = this.p.conns.close(conn, localUs);
    if (!closed) return;
    const { streams, aliveUs } = closed;
    for (const st of streams) {
      const covered = st.cursor.detach(conn);
      this.p.drain(st);
      if (covered) continue;
      this.p.gaps.open(st, "disconnect", aliveUs, `connection closed: ${why}`);
      // Update ids do not carry over a lost connection: the book restarts from a new snapshot.
      st.book?.reset();
    }
  }

  /** Stream `st` was found silent at `localUs` (a retired symbol's silence is no loss). */
  stale(st: StreamState, localUs: number): void {
    if (st.retired) return;
    const since = silentSinceUs(st, localUs);
    const silentS = ((localUs - since) / 1e6).toFixed(1);
    this.p.gaps.open(st, "stale", since, `no message on ${st.ps.name} for ${silentS} s`);
  }

  /** A clean stop: open gaps end now, connections and books are forgotten (a later run starts afresh). */
  shutdown(localUs: number): void {
    const { conns, gaps } = this.p;
    // A hole still waiting for REST is missing data for whoever reads the files now: its gap row is written
    // (a later run that recovers it adds a `backfilled` row for the same interval).
    gaps.markPending("at shutdown");
    for (const st of this.p.states) {
      const alive = conns.lastUsOf(st);
      if (!Number.isNaN(alive)) st.downSinceUs = alive;
      if (st.gap) {
        st.gap = { ...st.gap, reason: `${st.gap.reason} (still open at shutdown)` };
        gaps.close(st, localUs, null);
      }
      for (const conn of conns.connections()) st.cursor.detach(conn);
      st.cursor.drain();
      st.book?.reset();
    }
    conns.clear();
  }

  /**
   * The journal may have lost data (a crash, or a journal reopened after a failure): every stream may miss data
   * from the last frame received until the next delivery, so each opens a disconnect gap; books must resync.
   * `lastFrameUs` is the market's last frame (else the crash record's time): not the last record, since a run
   * killed during its own recovery journals records but no frame.
   */
  crashed(reason: string, lastFrameUs: number): void {
    const { conns, gaps } = this.p;
    for (const st of this.p.states) {
      // From the last frame of the connections that carried the stream: a socket delivers in order, so what
      // it lost came after that. Else the stream's own last message, else the market's last frame.
      // A stream the last run recorded (even one that never got a message, as a quiet liquidation stream) has
      // one of these; a stream new to this run has none and no gap.
      const alive = [st.downSinceUs, conns.lastUsOf(st), st.cursor.lastLocalUs].find((us) =>
        !Number.isNaN(us)
      );
      // A retired stream's symbol does not trade: its silence is no loss.
      const recorded = !st.retired && (alive !== undefined || st.book?.book.lastUpdateId);
      st.cursor.detachAll();
      st.book?.reset();
      st.downSinceUs = NaN;
      if (recorded) gaps.open(st, "disconnect", alive ?? lastFrameUs, reason);
    }
    conns.clear();
  }
}
