/**
 * A chaos scenario: a seeded random timeline of fault switches on the simulator and of stops of the collector
 * (SIGTERM or SIGKILL, then a restart). Pure: the same seed and length give the same timeline.
 * @module
 */
import { type Market, MARKETS } from "../../lib/binance/markets.ts";
import type { Faults } from "../../lib/sim/faults.ts";
import { Prng } from "../../lib/sim/prng.ts";

/** A fault switched on at `atMs` (from the scenario's start) for `forMs`. */
export interface FaultStep {
  kind: "fault";
  atMs: number;
  forMs: number;
  /** Short label for the report. */
  label: string;
  /** The switches to set; they are reset to off after `forMs`. */
  set: Partial<Faults>;
}

/** The collector is stopped at `atMs` and started again `downMs` later. */
export interface StopStep {
  kind: "stop";
  atMs: number;
  signal: "SIGTERM" | "SIGKILL";
  downMs: number;
}

export type Step = FaultStep | StopStep;

/** A timeline plus the simulator settings it runs with. */
export interface Scenario {
  seed: number;
  durationMs: number;
  /** REQUEST_WEIGHT per minute: some scenarios run on a tight budget, as on a shared IP. */
  weightPerMinute: Record<Market, number>;
  steps: Step[];
}

/**
 * Makes a scenario: a fault every 1.5–4 s (drops, duplicates, reordered diffs, disconnects followed by refused
 * upgrades, failing and hanging REST, stale snapshots, garbage frames, unknown fields, bursts, server
 * shutdowns) and a stop every 6–14 s, one in three a SIGTERM.
 *
 * @example
 * ```ts
 * const s = makeScenario(7, 60_000);
 * s.steps.filter((x) => x.kind === "stop").length; // several stops in a minute
 * ```
 */
export function makeScenario(seed: number, durationMs: number): Scenario {
  const rng = new Prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const between = (lo: number, hi: number) => lo + rng.next() * (hi - lo);
  const steps: Step[] = [];
  for (let at = between(1000, 3000); at < durationMs - 2000; at += between(1500, 4000)) {
    const market = pick(MARKETS);
    const forMs = Math.round(between(1000, 5000));
    const atMs = Math.round(at);
    const f = (label: string, set: Partial<Faults>, ms = forMs): FaultStep => ({
      kind: "fault",
      atMs,
      forMs: ms,
      label,
      set,
    });
    const faults: (() => FaultStep)[] = [
      () => f("drop diffs", { dropDiffs: { market, probability: between(0.01, 0.1) } }),
      () => f("duplicate diffs", { duplicateDiffs: { market, probability: between(0.05, 0.3) } }),
      () => f("delay diffs", { delayDiffs: { market, probability: between(0.01, 0.05), delayMs: 250 } }),
      () => {
        const refuseMs = Math.round(between(500, 4000));
        const status = rng.chance(0.3) ? 429 : 503;
        return f(`disconnect + refuse (${status}) ${refuseMs} ms`, {
          disconnect: { market },
          refuseConnectionsUntil: refuseMs, // made absolute when applied
          refuseConnectionsStatus: status,
        }, refuseMs);
      },
      () =>
        f("REST 5xx/429/hangs", {
          rest: {
            market,
            errorProbability: between(0.1, 0.4),
            rateLimitProbability: between(0, 0.2),
            hangProbability: between(0.05, 0.3),
            hangMs: 10_000,
          },
        }),
      () => f("stale snapshots", { staleSnapshots: { market, probability: 0.7 } }),
      () => f("garbage frames", { garbage: { market, probability: 0.2 } }),
      () => f("unknown fields", { unknownFields: true }),
      () => f("burst", { burst: { market, updates: 2000, trades: 50 } }, 200),
      () => f("server shutdown", { serverShutdown: { closeAfterMs: 1000 } }, 200),
    ];
    steps.push(pick(faults)());
  }
  for (let at = between(5000, 9000); at < durationMs - 4000; at += between(6000, 14_000)) {
    steps.push({
      kind: "stop",
      atMs: Math.round(at),
      signal: rng.chance(1 / 3) ? "SIGTERM" : "SIGKILL",
      downMs: Math.round(between(200, 3000)),
    });
  }
  steps.sort((a, b) => a.atMs - b.atMs);
  const tight = rng.chance(0.3);
  return {
    seed,
    durationMs,
    weightPerMinute: tight ? { spot: 300, usdm: 240, coinm: 600 } : { spot: 6000, usdm: 2400, coinm: 6000 },
    steps,
  };
}
