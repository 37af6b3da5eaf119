/** A stand-in for `Deno.cron` that records registrations and lets tests fire the handlers. */
import type { CronOptions, CronRegistrar } from "../../cron/job.ts";

/** One recorded `Deno.cron` call. */
export interface Registration {
  name: string;
  schedule: string;
  options: CronOptions;
  handler: () => Promise<void>;
}

/** A recording registrar and what it recorded. */
export function fakeCron(): { cron: CronRegistrar; registered: Registration[] } {
  const registered: Registration[] = [];
  const cron: CronRegistrar = (name, schedule, options, handler) => {
    registered.push({ name, schedule, options, handler });
    return new Promise<void>((resolve) => options.signal?.addEventListener("abort", () => resolve()));
  };
  return { cron, registered };
}

/** The single registration, checked to carry a usable backoff schedule. */
export function onlyRegistration(registered: Registration[], name: string): Registration {
  if (registered.length !== 1) throw new Error(`expected one registration, got ${registered.length}`);
  const r = registered[0]!;
  if (r.name !== name) throw new Error(`expected job ${name}, got ${r.name}`);
  const backoff = r.options.backoffSchedule;
  if (
    !backoff || backoff.length === 0 || backoff.length > 5 ||
    backoff.some((ms) => !(ms > 0 && ms <= 3_600_000))
  ) {
    throw new Error(`job ${name} has no valid backoffSchedule: ${JSON.stringify(backoff)}`);
  }
  return r;
}
