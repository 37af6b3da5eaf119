/**
 * Alerts and their coalescing (pure; time is passed in).
 *
 * Alerts of one family and market (reconnects on spot, gaps on usdm, clock offsets from NTP, ...) share a key.
 * The first alert of a quiet key waits `settleMs` so that a burst (every connection dropping at once) leaves as
 * ONE message; after a key's message, further alerts of the key wait out the family's window and leave as one
 * summary with counts ("12 reconnects on spot in the last 60 s (BTCUSDT ×6, …)"). So a storm that lasts costs
 * one message per window, and a lone alert costs one message. Start and stop are never coalesced.
 * @module
 */

import { alertText, summaryText } from "./alert_text.ts";
import type { CollectorAlert } from "../pipeline/collector.ts";
import type { MarketSymbols } from "./args.ts";

/** Something the operator should hear about: what the collector raises, plus the service's own events. */
export type Alert =
  | CollectorAlert
  | { kind: "start"; version: string; dataDir: string; markets: readonly MarketSymbols[] }
  | { kind: "stop"; version: string; reason: string; uptimeMs: number }
  /** Shaped like the `time_sync` job's `ClockAlert`, which can be passed as is. */
  | { kind: "clock"; source: string; server?: string | null; offsetMs: number; thresholdMs: number }
  /** Free space of the data directory's filesystem below `lowBytes` (below `minBytes` nothing is written). */
  | { kind: "disk"; dir: string; freeBytes: number; lowBytes: number; minBytes: number }
  | { kind: "sync_failed"; path: string; error: string };

/** The kind of an {@linkcode Alert}. */
export type AlertKind = Alert["kind"];

/** Alerts that coalesce with each other (per market or source, see the module doc). */
export type AlertFamily = "link" | "gap" | "backfill" | "clock" | "disk" | "flush" | "sync";

/** How long a key stays quiet after its message, per family (ms). */
export const DEFAULT_WINDOWS_MS: Readonly<Record<AlertFamily, number>> = {
  link: 60_000,
  gap: 60_000,
  backfill: 60_000,
  // Repeats of a lasting condition: once an hour is enough to say it persists.
  clock: 3_600_000,
  disk: 3_600_000,
  flush: 300_000,
  sync: 300_000,
};

/** Options of {@linkcode AlertCoalescer}. */
export interface CoalesceOptions {
  /** How long the first alert of a quiet key waits for companions. @default 2000 */
  settleMs?: number;
  /** Per family; missing families use {@linkcode DEFAULT_WINDOWS_MS}. */
  windowsMs?: Partial<Record<AlertFamily, number>>;
}

/** What a group of same-key alerts adds up to. */
export interface Tally {
  family: AlertFamily;
  count: number;
  first: Alert;
  /** Alerts per sort: alert kind (link), gap kind (gap), `ok`/`failed` (backfill). */
  sorts: Map<string, number>;
  /** Alerts per subject: connection (link), symbol (gap, backfill), file (sync). */
  subjects: Map<string, number>;
  /** Subjects beyond {@linkcode MAX_SUBJECTS} were counted only in `count`. */
  moreSubjects: boolean;
  /**
   * The family's headline figure: longest downtime ms (link), missing seconds (gap), rows (backfill), offset
   * farthest from zero (clock), least free bytes (disk).
   */
  worst: number;
  /** The last failure's text (flush, sync), unescaped. */
  lastError: string;
}

/** Distinct subjects a tally names; bounds its memory in a storm. */
export const MAX_SUBJECTS = 100;

/** The family and coalescing key of an alert; null for alerts that are never coalesced. */
export function groupOf(alert: Alert): { family: AlertFamily; key: string } | null {
  switch (alert.kind) {
    case "disconnect":
    case "reconnect":
      return { family: "link", key: `link:${alert.market}` };
    case "gap":
      return { family: "gap", key: `gap:${alert.market}` };
    case "backfill":
      return { family: "backfill", key: `backfill:${alert.market}` };
    case "clock":
      return { family: "clock", key: `clock:${alert.source}` };
    case "disk":
      // Crossing the hard minimum must not wait out the hour of an earlier "low" message.
      return { family: "disk", key: alert.freeBytes < alert.minBytes ? "disk:min" : "disk:low" };
    case "flush_failed":
      return { family: "flush", key: "flush" };
    case "journal_failed":
      return { family: "flush", key: "journal" };
    case "sync_failed":
      return { family: "sync", key: "sync" };
    default:
      return null;
  }
}

function sortOf(alert: Alert): string | null {
  switch (alert.kind) {
    case "disconnect":
    case "reconnect":
      return alert.kind;
    case "gap":
      return alert.gap.kind;
    case "backfill":
      return alert.ok ? "ok" : "failed";
    default:
      return null;
  }
}

function subjectOf(alert: Alert): string | null {
  switch (alert.kind) {
    case "disconnect":
    case "reconnect":
      return alert.conn;
    case "gap":
      return alert.gap.symbol;
    case "backfill":
      return alert.symbol;
    case "sync_failed":
      return alert.path;
    default:
      return null;
  }
}

/** Folds an alert's headline figure into `worst` (NaN = none yet). */
function worstOf(worst: number, alert: Alert): number {
  const pick = (v: number, better: (a: number, b: number) => boolean) =>
    Number.isNaN(worst) || better(v, worst) ? v : worst;
  switch (alert.kind) {
    case "reconnect":
      return pick(alert.downtimeMs, (a, b) => a > b);
    case "gap": {
      const seconds = Math.max(0, alert.gap.end_time - alert.gap.start_time) / 1e6;
      return (Number.isNaN(worst) ? 0 : worst) + seconds;
    }
    case "backfill":
      return (Number.isNaN(worst) ? 0 : worst) + alert.rows;
    case "clock":
      return pick(alert.offsetMs, (a, b) => Math.abs(a) > Math.abs(b));
    case "disk":
      return pick(alert.freeBytes, (a, b) => a < b);
    default:
      return worst;
  }
}

function bump(map: Map<string, number>, key: string | null): void {
  if (key !== null) map.set(key, (map.get(key) ?? 0) + 1);
}

function newTally(family: AlertFamily, alert: Alert): Tally {
  const t: Tally = {
    family,
    count: 0,
    first: alert,
    sorts: new Map(),
    subjects: new Map(),
    moreSubjects: false,
    worst: NaN,
    lastError: "",
  };
  addTo(t, alert);
  return t;
}

function addTo(t: Tally, alert: Alert): void {
  t.count++;
  bump(t.sorts, sortOf(alert));
  const subject = subjectOf(alert);
  if (subject !== null && !t.subjects.has(subject) && t.subjects.size >= MAX_SUBJECTS) t.moreSubjects = true;
  else bump(t.subjects, subject);
  t.worst = worstOf(t.worst, alert);
  if (alert.kind === "flush_failed" || alert.kind === "journal_failed") t.lastError = alert.error;
  else if (alert.kind === "sync_failed") t.lastError = `${alert.path}: ${alert.error}`;
}

interface KeyState {
  family: AlertFamily;
  tally: Tally | null;
  /** Start of the period the pending message speaks about. */
  sinceMs: number;
  dueMs: number;
  lastSentMs: number;
  quietUntilMs: number;
}

/**
 * Turns alerts into messages (Telegram HTML), coalescing storms (see the module doc).
 *
 * @example
 * ```ts
 * const c = new AlertCoalescer({ settleMs: 2000 });
 * c.push({ kind: "reconnect", market: "spot", conn: "BTCUSDT", downtimeMs: 800 }, 0);
 * c.push({ kind: "reconnect", market: "spot", conn: "ETHUSDT", downtimeMs: 900 }, 100);
 * c.due(1000); // []
 * c.due(2000); // ["🔗 2 reconnects on spot in the last 2 s (BTCUSDT, ETHUSDT), longest down 0.9s"]
 * ```
 */
export class AlertCoalescer {
  readonly #settleMs: number;
  readonly #windowsMs: Record<AlertFamily, number>;
  readonly #states = new Map<string, KeyState>();
  #ready: string[] = [];

  constructor(options: CoalesceOptions = {}) {
    this.#settleMs = options.settleMs ?? 2000;
    this.#windowsMs = { ...DEFAULT_WINDOWS_MS, ...options.windowsMs };
  }

  /** Takes an alert at `nowMs`. */
  push(alert: Alert, nowMs: number): void {
    const group = groupOf(alert);
    if (group === null) {
      this.#ready.push(alertText(alert));
      return;
    }
    let st = this.#states.get(group.key);
    if (st === undefined) {
      st = {
        family: group.family,
        tally: null,
        sinceMs: nowMs,
        dueMs: 0,
        lastSentMs: -Infinity,
        quietUntilMs: -Infinity,
      };
      this.#states.set(group.key, st);
    }
    if (st.tally !== null) {
      addTo(st.tally, alert);
      return;
    }
    st.tally = newTally(group.family, alert);
    const quiet = nowMs < st.quietUntilMs;
    st.sinceMs = quiet ? st.lastSentMs : nowMs;
    st.dueMs = quiet ? st.quietUntilMs : nowMs + this.#settleMs;
  }

  /** Messages due at `nowMs`, oldest first; they are handed out once. */
  due(nowMs: number): string[] {
    return this.#take(nowMs, false);
  }

  /** Every pending message now, whatever its due time (shutdown). */
  drain(nowMs: number): string[] {
    return this.#take(nowMs, true);
  }

  /** When {@linkcode due} next has something (`-Infinity` = now), or null when nothing is pending. */
  nextDueMs(): number | null {
    if (this.#ready.length > 0) return -Infinity;
    let next: number | null = null;
    for (const st of this.#states.values()) {
      if (st.tally !== null && (next === null || st.dueMs < next)) next = st.dueMs;
    }
    return next;
  }

  /** Alerts waiting in groups or ready to leave. */
  get pending(): number {
    let n = this.#ready.length;
    for (const st of this.#states.values()) n += st.tally?.count ?? 0;
    return n;
  }

  #take(nowMs: number, all: boolean): string[] {
    const out = this.#ready;
    this.#ready = [];
    const due = [...this.#states.values()]
      .filter((st) => st.tally !== null && (all || st.dueMs <= nowMs))
      .sort((a, b) => a.dueMs - b.dueMs);
    for (const st of due) {
      const t = st.tally!;
      out.push(t.count === 1 ? alertText(t.first) : summaryText(t, nowMs - st.sinceMs));
      st.tally = null;
      st.lastSentMs = nowMs;
      st.quietUntilMs = nowMs + this.#windowsMs[st.family];
    }
    for (const [key, st] of this.#states) {
      if (st.tally === null && st.quietUntilMs <= nowMs) this.#states.delete(key);
    }
    return out;
  }
}
