/** Principals and share notifications live in the caller's own account (RFC 9670). */
import { decodeId, encodeId } from "../../model/ids.ts";
import type { MethodContext } from "../engine.ts";
import { MethodError } from "../errors.ts";

/** Checks that `accountId` is the caller's own account, the one with the principals capability. */
export function checkOwnAccount(ctx: MethodContext, accountId: unknown, what: string): Promise<string> {
  if (typeof accountId !== "string") {
    return Promise.reject(new MethodError("invalidArguments", '"accountId" must be a string'));
  }
  if (decodeId(accountId) !== ctx.principal.accountId) {
    const own = encodeId(ctx.principal.accountId);
    return Promise.reject(
      new MethodError(
        "accountNotFound",
        `No account "${accountId}" holds your ${what}; yours are in "${own}"`,
      ),
    );
  }
  return Promise.resolve(accountId);
}
