/**
 * Discovery documents: OpenID Provider metadata (OIDC Discovery §3), the same as RFC 8414
 * authorization-server metadata, RFC 9728 protected-resource metadata, and the JWKS.
 */
import type { RequestContext } from "../../http/mod.ts";
import { GRANT_TYPES, SCOPES } from "../deps.ts";
import type { OAuthProvider } from "../provider.ts";
import { JWKS_MAX_AGE_SECONDS } from "../signing_keys.ts";

/** The provider's metadata for an issuer (the request's base URL or the configured public URL). */
export function providerMetadata(provider: OAuthProvider, issuer: string): Record<string, unknown> {
  const algorithm = provider.settings.signatureAlgorithm;
  const authMethods = ["client_secret_basic", "client_secret_post", "none"];
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth/authorize`,
    token_endpoint: `${issuer}/auth/token`,
    userinfo_endpoint: `${issuer}/auth/userinfo`,
    jwks_uri: `${issuer}/auth/jwks.json`,
    ...(provider.settings.allowDynamicRegistration
      ? { registration_endpoint: `${issuer}/auth/register` }
      : {}),
    introspection_endpoint: `${issuer}/auth/introspect`,
    revocation_endpoint: `${issuer}/auth/revoke`,
    device_authorization_endpoint: `${issuer}/auth/device`,
    end_session_endpoint: `${issuer}/auth/logout`,
    scopes_supported: Object.keys(SCOPES),
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: [...GRANT_TYPES],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: algorithm === "RS256" ? ["RS256"] : [algorithm, "RS256"],
    token_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    revocation_endpoint_auth_methods_supported: authMethods,
    code_challenge_methods_supported: ["S256"],
    prompt_values_supported: ["none", "login", "consent", "select_account"],
    claims_supported: [
      "sub",
      "iss",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "nonce",
      "at_hash",
      "azp",
      "preferred_username",
      "name",
      "email",
      "email_verified",
    ],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    frontchannel_logout_supported: false,
    backchannel_logout_supported: false,
  };
}

const PUBLIC_JSON = { "content-type": "application/json", "cache-control": "public, max-age=300" };

/** GET /.well-known/openid-configuration and /.well-known/oauth-authorization-server. */
export function metadataEndpoint(provider: OAuthProvider) {
  return (ctx: RequestContext) =>
    new Response(JSON.stringify(providerMetadata(provider, ctx.baseUrl)), { headers: PUBLIC_JSON });
}

/** GET /.well-known/oauth-protected-resource (RFC 9728): the JMAP and management APIs. */
export function protectedResourceEndpoint() {
  return (ctx: RequestContext) =>
    new Response(
      JSON.stringify({
        resource: ctx.baseUrl,
        authorization_servers: [ctx.baseUrl],
        scopes_supported: Object.keys(SCOPES),
        bearer_methods_supported: ["header"],
        resource_name: "Postern",
        resource_documentation: `${ctx.baseUrl}/api/schema`,
      }),
      { headers: PUBLIC_JSON },
    );
}

/** GET /auth/jwks.json. */
export function jwksEndpoint(provider: OAuthProvider) {
  return async () =>
    new Response(JSON.stringify(await provider.keys.jwks()), {
      // A new key is published NEXT_KEY_DELAY_MS (twice this) before it signs.
      headers: {
        "content-type": "application/jwk-set+json",
        "cache-control": `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
      },
    });
}
