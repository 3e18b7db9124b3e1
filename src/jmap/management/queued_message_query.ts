/**
 * x:QueuedMessage/query: the filter's values are checked first (an unknown state is the caller's
 * mistake, not an empty answer), then the queue is filtered in memory like the other management types.
 */
import { QUEUED_MESSAGE_STATES } from "../../model/objects/mod.ts";
import type { MethodContext } from "../engine.ts";
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

/** Runs x:QueuedMessage/query over the messages `type.get` lists. */
export async function queuedMessageQuery(
  type: DataType,
  ctx: MethodContext,
  window: QueryWindow,
  maxLimit: number,
): Promise<QueryOutcome> {
  checkValues(window.filter);
  const { list } = await type.get(ctx, null);
  const ids = sortObjects(list.filter((o) => matches(type, o, window.filter)), window.sort).map((o) =>
    String(o.id)
  );
  return windowIds(ids, window, maxLimit);
}
