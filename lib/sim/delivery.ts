/**
 * Delivers exchange events to their subscribers, with the fault switches that act on delivery: diff faults
 * (drop, duplicate, delay — applied only to events someone receives, so a `count` is spent where a test can
 * see it), unknown extra fields, junk frames, disconnects and spot `serverShutdown`. Each fault's effect is
 * recorded in the ground truth.
 */
import type { Market } from "../binance/markets.ts";
import type { AggTradeEvent, SimEvent } from "./events.ts";
import { diffFaultHits, type Faults, isDue } from "./faults.ts";
import { combinedFrame, eventFrame, tradeFrames } from "./frames.ts";
import type { Prng } from "./prng.ts";
import type { GroundTruth } from "./truth.ts";
import { CLOSE_CODES, type WsHub } from "./ws_hub.ts";

interface Delayed {
  due: number;
  market: Market;
  stream: string;
  raw: string;
}

/**
 * Event delivery for one simulator.
 *
 * @example
 * ```ts
 * import { Exchange } from "./exchange.ts";
 * import { noFaults } from "./faults.ts";
 * import { Prng } from "./prng.ts";
 * import { GroundTruth } from "./truth.ts";
 * import { WsHub } from "./ws_hub.ts";
 * const faults = noFaults();
 * const hub = new WsHub(faults, 64 * 1024 * 1024, { framesSent: 0, connectionsOpened: 0 });
 * const delivery = new Delivery(hub, faults, new GroundTruth({ memory: false }), new Prng(1));
 * const exchange = new Exchange({ symbols: ["BTCUSDT"] }, Date.now());
 * const now = Date.now() + 100;
 * for (const ev of exchange.step(now, null)) delivery.dispatch(ev, now);
 * delivery.afterStep(now);
 * ```
 */
export class Delivery {
  readonly #hub: WsHub;
  readonly #faults: Faults;
  readonly #truth: GroundTruth;
  readonly #rng: Prng;
  readonly #delayed: Delayed[] = [];
  readonly #lastFired = { disconnect: -Infinity, serverShutdown: -Infinity };

  constructor(hub: WsHub, faults: Faults, truth: GroundTruth, rng: Prng) {
    this.#hub = hub;
    this.#faults = faults;
    this.#truth = truth;
    this.#rng = rng;
  }

  /** Sends one event's frame to its stream's subscribers (spot aggregate trades also to `@trade`). */
  dispatch(ev: SimEvent, now: number): void {
    const market = ev.spec.market;
    if (ev.kind === "aggTrade" && market === "spot") this.#dispatchTrades(ev);
    const subs = this.#hub.subscribers(market, ev.stream);
    if (subs === undefined || subs.size === 0) return;
    const raw = this.#withExtras(eventFrame(ev));
    if (ev.kind !== "depth") {
      this.#hub.send(subs, ev.stream, raw);
      return;
    }
    const f = this.#faults;
    const record = (action: "drop" | "duplicate" | "delay") =>
      this.#truth.recordFault({
        action,
        market,
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
      this.#delayed.push({ due: now + (f.delayDiffs.delayMs ?? 250), market, stream: ev.stream, raw });
      return;
    }
    this.#hub.send(subs, ev.stream, raw);
    if (diffFaultHits(f.duplicateDiffs, ev.spec, this.#rng)) {
      record("duplicate");
      this.#hub.send(subs, ev.stream, raw);
    }
  }

  /** After each step's events: releases delayed diffs that are due and applies the connection faults. */
  afterStep(now: number): void {
    this.#releaseDelayed(now);
    const f = this.#faults;
    if (f.garbage !== null && this.#rng.chance(f.garbage.probability)) {
      this.#sendGarbage(f.garbage.market, now);
    }
    if (f.disconnect !== null && isDue(f.disconnect, this.#lastFired.disconnect, now)) {
      const market = f.disconnect.market;
      this.#lastFired.disconnect = now;
      if (f.disconnect.everyMs === undefined) f.disconnect = null;
      const n = this.#hub.disconnectAll(market, CLOSE_CODES.disconnect, "Simulated disconnect");
      this.#truth.recordFault({ action: "disconnect", market: market ?? null, connections: n, time: now });
    }
    if (f.serverShutdown !== null && isDue(f.serverShutdown, this.#lastFired.serverShutdown, now)) {
      const closeAfter = f.serverShutdown.closeAfterMs ?? 1000;
      this.#lastFired.serverShutdown = now;
      if (f.serverShutdown.everyMs === undefined) f.serverShutdown = null;
      const n = this.#hub.serverShutdown(now, closeAfter);
      this.#truth.recordFault({ action: "serverShutdown", market: "spot", connections: n, time: now });
    }
  }

  #dispatchTrades(ev: AggTradeEvent): void {
    const subs = this.#hub.subscribers("spot", ev.tradeStream);
    if (subs === undefined || subs.size === 0) return;
    for (const frame of tradeFrames(ev)) this.#hub.send(subs, ev.tradeStream, this.#withExtras(frame));
  }

  #withExtras(raw: string): string {
    return this.#faults.unknownFields ? `${raw.slice(0, -1)},"zz":"sim","st":1}` : raw;
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
      const subs = this.#hub.subscribers(d.market, d.stream);
      if (subs !== undefined) this.#hub.send(subs, d.stream, d.raw);
    }
  }

  /** Junk a client must survive: non-JSON text, an unknown event type, a JSON value that is not an event. */
  #sendGarbage(market: Market | undefined, now: number): void {
    const kind = this.#rng.int(3);
    const unknown = `{"e":"simUnknownEvent","E":${now},"s":"SIM"}`;
    this.#hub.broadcast(
      market,
      (c) =>
        kind === 0
          ? "\u0001not json{"
          : kind === 1
          ? (c.session.combined ? combinedFrame("sim@unknown", unknown) : unknown)
          : "[1,2,3]",
    );
  }
}
