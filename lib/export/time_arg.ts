/**
 * Times given on the command line: a UTC date or an ISO 8601 date-time with up to microseconds, in UTC unless
 * it carries an offset.
 * @module
 */

const FORM =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** The forms {@linkcode parseTimeArg} accepts, for messages and usage texts. */
export const TIME_FORMS =
  "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|±HH:MM] (UTC unless an offset is given)";

/**
 * µs since the epoch of `text`; throws `RangeError` naming the accepted forms.
 *
 * @example
 * ```ts
 * parseTimeArg("2026-11-24"); // 1795478400000000
 * parseTimeArg("2026-11-24T10:00:00.000001Z"); // 1795514400000001
 * ```
 */
export function parseTimeArg(text: string): number {
  const m = FORM.exec(text.trim());
  if (m === null) throw new RangeError(`Cannot parse time "${text}": expected ${TIME_FORMS}`);
  const [, y, mo, d, h = "00", mi = "00", s = "00", fraction = "", zone = "Z"] = m;
  const offset = zone.toUpperCase() === "Z" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`);
  // Date.parse rolls an impossible date over (Feb 30 → Mar 2); the round trip catches it.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  const valid = !Number.isNaN(ms) && check.getUTCDate() === Number(d) && check.getUTCHours() === Number(h) &&
    check.getUTCMinutes() === Number(mi) && check.getUTCSeconds() === Number(s);
  if (!valid) throw new RangeError(`Cannot parse time "${text}": not a valid date and time`);
  return ms * 1000 + Number(fraction.padEnd(6, "0"));
}
