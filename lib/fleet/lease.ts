/**
 * The lease that lets exactly one shard send the fleet's daily report of a day: `["fleet", "daily_report",
 * date]` in the store the shards share, outside every shard's `["shard", name]` prefix (pass the whole store,
 * `sharedKv(ledger.kv)`). Taking it is one atomic check-and-set on the versionstamp read, so of shards racing
 * one wins. A holder that dies before delivering loses it when it expires, and another shard takes over; a
 * delivered lease is kept (for `keepMs`) so that nobody sends the day again.
 * @module
 */

/** Key of the lease of `date`'s fleet report. */
export function fleetReportKey(date: string): Deno.KvKey {
  return ["fleet", "daily_report", date];
}

/** The value of a lease. */
export interface ReportLease {
  holder: string;
  /** The holder may deliver until then; after it, another shard may take the lease. */
  untilMs: number;
  deliveredAtMs: number | null;
}

/** What {@linkcode takeReportLease} found. */
export type LeaseOutcome =
  | { taken: true }
  | { taken: false; why: "delivered" | "held"; lease: ReportLease };

/** Options of the lease calls. */
export interface LeaseOptions {
  /** How long a holder has to deliver. @default 1800000 (30 min) */
  ttlMs?: number;
  /** How long a delivered lease is kept. @default 1209600000 (14 days) */
  keepMs?: number;
}

/**
 * Takes the lease of `date` for `holder` unless the report was delivered or another holder's lease runs.
 * The holder's own unexpired lease is taken again (a retry).
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv(":memory:");
 * const now = Date.now();
 * (await takeReportLease(kv, "2024-01-02", "s0", now)).taken; // true
 * (await takeReportLease(kv, "2024-01-02", "s1", now)).taken; // false: s0 holds it
 * await markReportDelivered(kv, "2024-01-02", "s0", now);
 * (await takeReportLease(kv, "2024-01-02", "s0", now)).taken; // false: delivered
 * kv.close();
 * ```
 */
export async function takeReportLease(
  kv: Deno.Kv,
  date: string,
  holder: string,
  nowMs: number,
  options: LeaseOptions = {},
): Promise<LeaseOutcome> {
  const { ttlMs = 1_800_000 } = options;
  const key = fleetReportKey(date);
  // A lost race re-reads: the winner's lease then stands (or is this holder's own retry).
  for (;;) {
    const seen = await kv.get<ReportLease>(key);
    const lease = seen.value;
    if (lease !== null) {
      if (lease.deliveredAtMs !== null) return { taken: false, why: "delivered", lease };
      if (lease.holder !== holder && lease.untilMs > nowMs) return { taken: false, why: "held", lease };
    }
    const mine: ReportLease = { holder, untilMs: nowMs + ttlMs, deliveredAtMs: null };
    const res = await kv.atomic().check(seen).set(key, mine, { expireIn: ttlMs + 86_400_000 }).commit();
    if (res.ok) return { taken: true };
  }
}

/** Records that `holder` delivered the report of `date`. */
export async function markReportDelivered(
  kv: Deno.Kv,
  date: string,
  holder: string,
  nowMs: number,
  options: LeaseOptions = {},
): Promise<void> {
  const { keepMs = 1_209_600_000 } = options;
  const lease: ReportLease = { holder, untilMs: nowMs, deliveredAtMs: nowMs };
  await kv.set(fleetReportKey(date), lease, { expireIn: keepMs });
}
