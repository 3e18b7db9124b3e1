/** Who calls a management operation, and the checks of the caller's rights the handlers share. */
import { ForbiddenError, InvalidInputError, type Principal } from "./deps.ts";

/** The caller of an object operation; `system` is the local CLI/TUI acting on the database file. */
export type Caller = Principal | "system";

/** Whether the caller is the local system or an administrator. */
export function isAdmin(caller: Caller): boolean {
  return caller === "system" || caller.roles.includes("admin");
}

/** Whether the caller is an administrator or the account `accountId` itself. */
export function isSelfOrAdmin(caller: Caller, accountId: number): boolean {
  return isAdmin(caller) || (caller as Principal).accountId === accountId;
}

/** Refuses (ForbiddenError) a caller who is not an administrator. */
export function requireAdmin(caller: Caller, action: string): void {
  if (!isAdmin(caller)) throw new ForbiddenError(`Only an administrator can ${action}`);
}

/** Refuses (ForbiddenError) a caller who is neither an administrator nor the account itself. */
export function requireSelfOrAdmin(caller: Caller, accountId: number, action: string): void {
  if (!isSelfOrAdmin(caller, accountId)) throw new ForbiddenError(`Only an administrator can ${action}`);
}

/** The caller's own account; acting on the database directly has none, so the object must name it. */
export function callerAccount(caller: Caller): number {
  if (caller === "system") {
    throw new InvalidInputError("accountId is required when acting on the database directly", [
      { property: "accountId", message: "required in local mode" },
    ]);
  }
  return caller.accountId;
}
