/**
 * x:QueuedMessage/query: the filter's values are checked first (an unknown state is the caller's
 * mistake, not an empty answer), then the queue is filtered in memory like the other management types.
 */
import { QUEUED_MESSAGE_STATES } from "../../model/objects/mod.ts";
import { MethodError } from "../errors.ts";
import type { DataType, JmapObject, QueryOutcome, QueryWindow } from "../standard/data_type.ts";
import { matches, sortObjects, windowIds } from "../standard/query_window.ts";
import type { Filter } from "../types.ts";

const values = (v: unknown) => v && typeof v === "object" ? Object.values(v) : [];

/** The conditions of x:QueuedMessage/query: state, recipient domain and envelope sender. */
export const QUEUED_MESSAGE_CONDITIONS: DataType["conditions"] = {
  state: (o, v) => o.state === v,
  domain: (o: JmapObject, v) =>
    typeof v === "string" && values(o.domains).includes(v.toLowerCase().replace(/\.$/, "")),
  sender: (o, v) => typeof v === "string" && String(o.sender).toLowerCase() === v.toLowerCase(),
};

/** Refuses a condition value of the wrong kind, naming it (RFC 8620 §5.5 invalidArguments). */
function checkValues(filter: Filter | null): void {
  if (!filter) return;
  if ("operator" in filter && Array.isArray(filter.conditions)) {
    for (const condition of filter.conditions as Filter[]) checkValues(condition);
    return;
  }
  const c = filter as Record<string, unknown>;
  for (const key of ["state", "domain", "sender"]) {
    if (key in c && typeof c[key] !== "string") {
      throw new MethodError("invalidArguments", `Filter "${key}" must be a string`);
    }
  }
  if ("state" in c && !(QUEUED_MESSAGE_STATES as readonly string[]).includes(c.state as string)) {
    throw new MethodError(
      "invalidArguments",
      `Filter "state" is one of ${QUEUED_MESSAGE_STATES.join(", ")}, not "${c.state}"`,
    );
  }
}

/**
 * Runs x:QueuedMessage/query. A filter of plain conditions narrows the listing in the store (SQL:
 * messages with a recipient in that state or of that domain, a superset of the matches), and
 * the conditions then pick the matches exactly.
 */
export async function queuedMessageQuery(
  window: QueryWindow,
  options: {
    type: DataType;
    maxLimit: number;
    list: (narrow?: Record<string, string>) => Promise<JmapObject[]>;
  },
): Promise<QueryOutcome> {
  checkValues(window.filter);
  const { type } = options;
  const plain = window.filter && !("operator" in window.filter)
    ? window.filter as Record<string, string>
    : undefined;
  const narrow = plain
    ? Object.fromEntries(Object.entries(plain).filter(([key]) => key === "state" || key === "domain"))
    : undefined;
  const list = await options.list(narrow);
  const ids = sortObjects(list.filter((o) => matches(type, o, window.filter)), window.sort).map((o) =>
    String(o.id)
  );
  return windowIds(ids, window, options.maxLimit);
}
