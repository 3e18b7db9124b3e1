/** Which accountId a management call may name: the caller's own, or any existing account for an admin. */
import type { AccountService } from "../../directory/mod.ts";
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";

/** Checks `accountId` for a management method and returns it. */
export async function checkManagementAccount(
  accounts: AccountService,
  ctx: MethodContext,
  accountId: unknown,
): Promise<string> {
  if (typeof accountId !== "string") {
    throw new MethodError("invalidArguments", '"accountId" must be a string');
  }
  const id = decodeId(accountId);
  const own = ctx.principal.accountId;
  if (id === own) return accountId;
  const isAdmin = ctx.principal.roles.includes("admin");
  if (id === undefined || !isAdmin || !(await accounts.get(id))) {
    throw new MethodError("accountNotFound", `No account "${accountId}" is available to ${encodeId(own)}`);
  }
  return accountId;
}
