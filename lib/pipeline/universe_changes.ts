/**
 * What `Universe` records change in one market's normalizer (part of the normalizer, normalizer.ts; pure): under
 * `symbols: all` an addition grows the plan; a symbol that stops trading is retired (its silence is no loss) and
 * revived when it trades again. The additions are kept in order and the retired symbols with them, so that a
 * checkpoint's restore rebuilds the same streams and connection keys.
 * @module
 */
import {
  type ConnectionPlan,
  extendPlan,
  type PlannedStream,
  type StreamPlan,
} from "../binance/stream_plan.ts";
import type { GapKeeper } from "./gap_keeper.ts";
import type { NormalizerEvents, NormalizerStats } from "./normalizer_contract.ts";
import type { JournalRecord } from "./records.ts";
import type { StreamState } from "./stream_state.ts";

/** The saved form of a market's universe changes. */
export interface SavedUniverse {
  batches: string[][];
  retired: string[];
}

/** The normalizer's parts that universe changes act on. */
export interface UniverseParts {
  plan: StreamPlan;
  /** Every stream of the market, by plan index (grows as the plan does). */
  states: readonly StreamState[];
  gaps: GapKeeper;
  events: NormalizerEvents;
  stats: NormalizerStats;
  /** `symbols: all` (see {@link NormalizerOptions.dynamicUniverse}). */
  dynamic?: boolean;
  /** Creates the state of the plan's streams that have none yet and registers `connections`; returns those streams. */
  track(connections: readonly ConnectionPlan[]): PlannedStream[];
}

/** Applies universe changes to the plan and the streams, and keeps them for checkpoints. */
export class UniverseChanges {
  /** `symbols: all`: the symbols of each addition, in order (a restore replays them), and the retired ones. */
  private readonly batches: string[][] = [];
  private readonly retiredSymbols = new Set<string>();

  constructor(private readonly p: UniverseParts) {}

  /** The symbols recorded now: planned and not retired. */
  symbols(): string[] {
    const out = new Set<string>();
    for (const ps of this.p.plan.streams) if (!this.retiredSymbols.has(ps.symbol)) out.add(ps.symbol);
    return [...out];
  }

  /**
   * The recorded symbols changed: added ones get streams on new connections (`symbols: all`) or trade again,
   * removed ones are retired. A retired stream's open gap ends now, unless it is only the silence of a symbol that stopped
   * trading (a `stale` gap), which is dropped: no data was missed.
   */
  apply(rec: JournalRecord): void {
    const { plan, states, events } = this.p;
    let change: { add?: unknown; remove?: unknown };
    try {
      change = JSON.parse(rec.text);
    } catch {
      this.p.stats.malformedFrames++;
      return;
    }
    const names = (v: unknown) => Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    const add = names(change.add);
    const remove = new Set(names(change.remove));
    if (add.length > 0 && this.p.dynamic) {
      this.batches.push(add);
      const connections = extendPlan(plan, add);
      const fresh = this.p.track(connections);
      if (fresh.length > 0 || connections.length > 0) events.planGrew?.(fresh, connections);
    }
    if (add.length > 0) {
      // A configured list never grows: an addition there only revives a symbol that trades again.
      const revived = states.filter((st) => st.retired && add.includes(st.ps.symbol));
      for (const st of revived) {
        st.retired = false;
        // Candles of the time it did not trade are not a hole: the next closed one starts the count again.
        st.lastClosedOpen = -Infinity;
      }
      for (const symbol of add) this.retiredSymbols.delete(symbol);
      if (revived.length > 0) events.revived?.(revived.map((st) => st.ps));
    }
    const retired = states.filter((st) => !st.retired && remove.has(st.ps.symbol));
    for (const st of retired) {
      st.retired = true;
      if (st.gap?.kind === "stale") st.gap = null;
      else if (st.gap) {
        st.gap = { ...st.gap, reason: `${st.gap.reason}; the symbol stopped trading` };
        this.p.gaps.close(st, rec.localUs, null);
      }
    }
    for (const st of retired) this.retiredSymbols.add(st.ps.symbol);
    if (retired.length > 0) events.retired?.(retired.map((st) => st.ps));
  }

  /** The saved form (additions only under `symbols: all`; otherwise the plan is the config's). */
  save(): SavedUniverse {
    return { batches: this.p.dynamic ? this.batches : [], retired: [...this.retiredSymbols] };
  }

  /** Restores a saved form, before the streams are (a saved plan is ignored unless `symbols: all`). */
  restore(saved: SavedUniverse | undefined): void {
    if (this.p.dynamic && saved) {
      // The same additions in the same order rebuild the same streams and connection keys.
      this.batches.length = 0;
      const fresh: PlannedStream[] = [];
      const connections: ConnectionPlan[] = [];
      for (const batch of saved.batches) {
        this.batches.push(batch);
        const added = extendPlan(this.p.plan, batch);
        connections.push(...added);
        fresh.push(...this.p.track(added));
      }
      if (fresh.length > 0) this.p.events.planGrew?.(fresh, connections);
    }
    for (const symbol of saved?.retired ?? []) this.retiredSymbols.add(symbol);
  }

  /** Marks a restored stream retired when its symbol is, and reports it. */
  restoreRetired(st: StreamState): void {
    st.retired = this.retiredSymbols.has(st.ps.symbol);
    if (st.retired) this.p.events.retired?.([st.ps]);
  }
}
