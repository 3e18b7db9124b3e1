/**
 * The two date types of JMAP (RFC 8620 §1.4), read from and written to the wire. A UTCDate ends in
 * "Z"; a Date may carry any offset (RFC 3339 date-time). Both may have fractional seconds, and both
 * must be real instants (no 30 February).
 */

const UTC_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

/** A UTCDate's instant in milliseconds; undefined when `value` is not a UTCDate. */
export function readUtcDate(value: unknown): number | undefined {
  return typeof value === "string" && UTC_DATE.test(value) ? instant(value) : undefined;
}

/** A Date's instant in milliseconds; undefined when `value` is not a Date. */
export function readDate(value: unknown): number | undefined {
  return typeof value === "string" && DATE.test(value) ? instant(value) : undefined;
}

/** UTCDate as JMAP answers it: seconds, no fraction when it is zero. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

function instant(text: string): number | undefined {
  const ms = Date.parse(text);
  if (isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to 2 March: the calendar date must read back the same.
  const [year, month, day] = text.slice(0, 10).split("-").map(Number);
  const offset = /([+-])(\d\d):(\d\d)$/.exec(text);
  const shift = offset
    ? (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000
    : 0;
  const local = new Date(ms + shift);
  return local.getUTCFullYear() === year && local.getUTCMonth() + 1 === month && local.getUTCDate() === day
    ? ms
    : undefined;
}
