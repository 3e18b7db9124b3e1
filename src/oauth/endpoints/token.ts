/**
 * The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; RFC 8628 §3.4) and the token-type endpoints
 * that authenticate a client the same way: introspection (RFC 7662) and revocation (RFC 7009).
 */
import { getLogger } from "@logtape/logtape";
import type { RequestContext } from "../../http/mod.ts";
import { FAILED_LOGIN_MESSAGE, loginFailure } from "../../model/login_failure.ts";
import { GRANT_TYPES, type GrantType, type OAuthClient } from "../deps.ts";
import { invalidClient, OAuthError, unauthorizedClient } from "../errors.ts";
import type { OAuthProvider } from "../provider.ts";
import { basicClient, type Params, readForm, scopeList } from "./params.ts";
import { NO_STORE, oauthEndpoint, oauthJson } from "./responses.ts";
import { allowedScopes } from "./scopes.ts";
import { ADMIN_SCOPE } from "../client_rules.ts";

const SINGLE = [
  "grant_type",
  "code",
  "redirect_uri",
  "code_verifier",
  "refresh_token",
  "scope",
  "device_code",
  "client_id",
  "client_secret",
  "token",
  "token_type_hint",
] as const;

/** Reads the form and authenticates the client. */
async function clientRequest(
  provider: OAuthProvider,
  ctx: RequestContext,
): Promise<{ params: Params; client: OAuthClient }> {
  const params = await readForm(ctx.request);
  params.checkSingle(SINGLE);
  const basic = basicClient(ctx.request);
  const clientSecret = params.get("client_secret");
  try {
    const client = await provider.authenticateClient({
      basic,
      clientId: params.get("client_id"),
      clientSecret,
    });
    return { params, client };
  } catch (error) {
    // A secret that did not match (a guess, or a leaked id with a wrong secret): the line fail2ban reads.
    const clientId = basic?.clientId ?? params.get("client_id");
    if (error instanceof OAuthError && error.code === "invalid_client" && (basic || clientSecret)) {
      getLogger(["postern", "oauth"]).warn(
        FAILED_LOGIN_MESSAGE,
        loginFailure(ctx.clientAddress, "oauth-client", clientId ?? ""),
      );
    }
    throw error;
  }
}

/** POST /auth/token. */
export function tokenEndpoint(provider: OAuthProvider) {
  return (ctx: RequestContext) =>
    oauthEndpoint(async () => {
      // Token responses carry the request id from the start (no header added to a built response).
      const json = (body: unknown) => ctx.json(body, { headers: NO_STORE });
      const { params, client } = await clientRequest(provider, ctx);
      const grantType = params.require("grant_type");
      if (!(GRANT_TYPES as readonly string[]).includes(grantType)) {
        throw new OAuthError("unsupported_grant_type", `The grant type "${grantType}" is not supported`);
      }
      if (!client.grantTypes.includes(grantType as GrantType)) {
        throw unauthorizedClient(`The client "${client.clientId}" may not use the grant "${grantType}"`);
      }
      const issuer = ctx.baseUrl;
      switch (grantType as GrantType) {
        case "authorization_code":
          return json(
            await provider.codes.redeemCode(client, {
              code: params.require("code"),
              redirectUri: params.get("redirect_uri"),
              verifier: params.get("code_verifier"),
              issuer,
            }),
          );
        case "refresh_token":
          return json(
            await provider.tokens.refreshGrant(client, params.require("refresh_token"), {
              scope: params.get("scope"),
              issuer,
              // A family approved while an administrator stood behind the client keeps its refresh
              // token, but its access tokens lose the admin scope while nobody does.
              withheld: (await provider.trusted(client)) ? [] : [ADMIN_SCOPE],
            }),
          );
        case "urn:ietf:params:oauth:grant-type:device_code":
          return json(
            await provider.codes.redeemDeviceCode(client, params.require("device_code"), issuer),
          );
        case "client_credentials": {
          if (client.type !== "Confidential" || client.ownerId === null) {
            throw unauthorizedClient("client_credentials needs a confidential client with an owner account");
          }
          const trusted = await provider.trusted(client);
          // Without a scope parameter: every scope the client may get now.
          const requested = params.has("scope")
            ? scopeList(params.get("scope"))
            : client.scopes.filter((s) =>
              s !== "openid" && s !== "offline_access" && (trusted || s !== ADMIN_SCOPE)
            );
          const scopes = allowedScopes(client, requested, { trusted });
          if (scopes.includes("openid") || scopes.includes("offline_access")) {
            throw new OAuthError(
              "invalid_scope",
              "openid and offline_access need a user: not with client_credentials",
            );
          }
          const { tokens } = await provider.tokens.issue({
            client,
            accountId: client.ownerId,
            grantType: "client_credentials",
            scopes,
            authTime: Date.now(),
            issuer,
            withRefresh: false,
          });
          return json(tokens);
        }
      }
    });
}

/** POST /auth/introspect: confidential clients only. */
export function introspectionEndpoint(provider: OAuthProvider) {
  return (ctx: RequestContext) =>
    oauthEndpoint(async () => {
      const { params, client } = await clientRequest(provider, ctx);
      // RFC 7662 §2.1: the caller must authenticate, which a public client cannot do.
      if (client.type !== "Confidential") {
        throw invalidClient("Only a confidential client, authenticated, may introspect tokens");
      }
      // §2.2: a token the server does not know, however long, is inactive rather than an error.
      const token = params.require("token", Number.MAX_SAFE_INTEGER);
      return oauthJson(await provider.tokens.introspect(client, token, ctx.baseUrl));
    });
}

/** POST /auth/revoke. */
export function revocationEndpoint(provider: OAuthProvider) {
  return (ctx: RequestContext) =>
    oauthEndpoint(async () => {
      const { params, client } = await clientRequest(provider, ctx);
      const hint = params.get("token_type_hint");
      if (hint !== undefined && hint !== "access_token" && hint !== "refresh_token") {
        throw new OAuthError("unsupported_token_type", `Unknown token_type_hint "${hint}"`);
      }
      // RFC 7009 §2.2: an invalid token, however long, is not an error.
      const token = params.require("token", Number.MAX_SAFE_INTEGER);
      await provider.tokens.revoke(client, token);
      return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
    });
}
