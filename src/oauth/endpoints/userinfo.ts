/** The UserInfo endpoint (OIDC Core §5.3): the signed-in account's claims, by the token's scopes. */
import type { AccountService } from "../../directory/mod.ts";
import { type RequestContext, RESOURCE_METADATA_PATH } from "../../http/mod.ts";
import { REALM } from "../deps.ts";
import { accountClaims } from "../id_tokens.ts";
import { oauthJson } from "./responses.ts";

/** GET or POST /auth/userinfo. */
export function userinfoEndpoint(accounts: AccountService) {
  return async (ctx: RequestContext) => {
    const principal = await ctx.principal();
    // Credentials other than access tokens carry every right of their account.
    const scopes = principal.scopes ?? ["openid", "profile", "email"];
    if (!scopes.includes("openid")) {
      return oauthJson(
        { error: "insufficient_scope", error_description: "The access token lacks the openid scope" },
        403,
        {
          // RFC 6750 §3.1, and RFC 9728 §5.1: where the client learns how to get a token that will do.
          "www-authenticate": `Bearer ${REALM}, error="insufficient_scope", scope="openid", ` +
            `resource_metadata="${ctx.baseUrl}${RESOURCE_METADATA_PATH}"`,
        },
      );
    }
    const account = await accounts.require(principal.accountId);
    return oauthJson(accountClaims(account, scopes));
  };
}
