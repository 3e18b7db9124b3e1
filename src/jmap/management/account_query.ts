/** x:Account/query pushed down to SQL, so paging through 10,000 accounts stays fast. */
import { decodeId, encodeId } from "../../model/ids.ts";
import type { AccountCondition, AccountSortProperty, ConditionTree } from "../../model/types.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import type { QueryOutcome, QueryWindow } from "../standard/data_type.ts";
import type { Filter } from "../types.ts";
import type { ManagementDeps } from "./deps.ts";

/** Translates a JMAP filter on x:Account into the store's condition tree. */
function toTree(filter: Filter): ConditionTree<AccountCondition> {
  if ("operator" in filter && Array.isArray(filter.conditions)) {
    return {
      operator: filter.operator as "AND" | "OR" | "NOT",
      conditions: (filter.conditions as Filter[]).map(toTree),
    };
  }
  const c = filter as Record<string, unknown>;
  const out: AccountCondition = {};
  const str = (key: string) => {
    if (typeof c[key] !== "string") {
      throw new MethodError("invalidArguments", `Filter "${key}" must be a string`);
    }
    return c[key] as string;
  };
  const id = (key: string) => {
    const value = decodeId(str(key));
    // An id that cannot exist matches nothing rather than everything.
    return value ?? -1;
  };
  if ("name" in c) out.name = str("name").toLowerCase();
  if ("text" in c) out.text = str("text");
  if ("emailAddress" in c) out.emailAddress = str("emailAddress");
  if ("@type" in c) {
    const t = str("@type");
    if (t !== "User" && t !== "Group") {
      throw new MethodError("invalidArguments", 'Filter "@type" is User or Group');
    }
    out.type = t;
  }
  if ("domainId" in c) out.domainId = id("domainId");
  if ("memberOf" in c) out.memberOf = id("memberOf");
  if ("enabled" in c) {
    if (typeof c.enabled !== "boolean") {
      throw new MethodError("invalidArguments", 'Filter "enabled" is true or false');
    }
    out.enabled = c.enabled;
  }
  return out;
}

/** Runs x:Account/query; a non-admin sees only their own account. */
export async function accountQuery(
  deps: ManagementDeps,
  ctx: MethodContext,
  window: QueryWindow,
): Promise<QueryOutcome> {
  let filter = window.filter ? toTree(window.filter) : null;
  if (!ctx.principal.roles.includes("admin")) {
    const self: AccountCondition = { id: ctx.principal.accountId };
    filter = filter ? { operator: "AND", conditions: [filter, self] } : self;
  }
  const anchorId = window.anchor === null ? undefined : decodeId(window.anchor) ?? -1;
  const result = await deps.accounts.search({
    filter,
    sort: window.sort.map((c) => ({
      property: c.property as AccountSortProperty,
      ascending: c.isAscending !== false,
    })),
    position: window.position,
    anchorId,
    anchorOffset: window.anchorOffset,
    limit: Math.min(window.limit ?? deps.maxQueryLimit, deps.maxQueryLimit),
    count: window.calculateTotal,
  });
  if (!result.anchorFound) {
    throw new MethodError("anchorNotFound", `Anchor "${window.anchor}" is not in the results`);
  }
  return {
    ids: result.ids.map(encodeId),
    position: result.position,
    ...(result.total !== undefined ? { total: result.total } : {}),
  };
}
