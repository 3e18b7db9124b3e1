/**
 * The Principal data type (RFC 9670): directory accounts as principals, users as "individual" and
 * groups as "group". States come from the directory-wide "Account" change log, so every account
 * write moves them; which principals a caller sees is decided at read time (see principal_view.ts).
 */
import { encodeId } from "../../model/ids.ts";
import type { Account } from "../../model/types.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";
import { type DataType, type JmapObject, pickByIds } from "../standard/data_type.ts";
import type { Id, JmapAccount } from "../types.ts";
import { checkOwnAccount } from "./own_account.ts";
import { principalView, type PrincipalViewDeps } from "./principal_view.ts";
import { type PrincipalObject, PRINCIPALS_CAPABILITY } from "./types.ts";

/** The Principal objects of a caller's view. */
export async function principals(deps: PrincipalViewDeps, ctx: MethodContext): Promise<PrincipalObject[]> {
  const { visible, sessionAccounts } = await principalView(deps, ctx);
  return visible.map((account) => toWire(account, sessionAccounts));
}

function toWire(account: Account, sessionAccounts: Record<Id, JmapAccount>): PrincipalObject {
  const id = encodeId(account.id);
  const own = sessionAccounts[id];
  return {
    id,
    type: account.type === "Group" ? "group" : "individual",
    name: account.description || account.name,
    description: account.description,
    email: account.primaryAddress,
    timeZone: null,
    // No capability registered so far defines what a mail principal offers (RFC 9670).
    capabilities: {},
    // RFC 9670: the accounts holding this principal's data that the caller can access: the
    // caller's own for themselves, the shared account for an owner who shares with them.
    accounts: own ? { [id]: own } : null,
  };
}

/** A filter value that must be a string. */
function str(name: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new MethodError("invalidArguments", `Filter "${name}" must be a string`);
  }
  return value;
}

/** Whether a property contains the text, ignoring case ("looks for the text", RFC 9670). */
const contains = (field: unknown, value: string) =>
  typeof field === "string" && field.toLowerCase().includes(value.toLowerCase());

/** RFC 9670 (Principal/query): the filter conditions. */
const CONDITIONS: DataType["conditions"] = {
  accountIds: (o, v) => {
    if (!Array.isArray(v) || !v.every((id) => typeof id === "string")) {
      throw new MethodError("invalidArguments", 'Filter "accountIds" must be a list of account ids');
    }
    const accounts = o.accounts as Record<string, unknown> | null;
    return accounts !== null && v.some((id) => Object.hasOwn(accounts, id));
  },
  email: (o, v) => contains(o.email, str("email", v)),
  name: (o, v) => contains(o.name, str("name", v)),
  text: (o, v) => {
    const value = str("text", v);
    return [o.name, o.email, o.description].some((field) => contains(field, value));
  },
  type: (o, v) => o.type === str("type", v),
  timeZone: (o, v) => o.timeZone === str("timeZone", v),
};

/** The Principal data type. */
export function principalType(deps: PrincipalViewDeps): DataType {
  return {
    name: "Principal",
    capability: PRINCIPALS_CAPABILITY,
    changeType: "Account",
    properties: ["id", "type", "name", "description", "email", "timeZone", "capabilities", "accounts"],
    idProperties: [],
    defaults: {},
    wireId: encodeId,
    checkAccount: (ctx, accountId) => checkOwnAccount(ctx, accountId, "principals"),
    conditions: CONDITIONS,
    sortable: ["name", "email"],
    async get(ctx, ids) {
      const all = (await principals(deps, ctx)) as unknown as JmapObject[];
      return pickByIds(all, ids);
    },
  };
}
