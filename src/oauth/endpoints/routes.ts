/** The route table of the OAuth / OpenID Connect provider. */
import { type RequestContext, RESOURCE_METADATA_PATH, type Route } from "../../http/mod.ts";
import { authorizeEndpoint } from "./authorize.ts";
import { deviceAuthorizationEndpoint, devicePageEndpoint, deviceVerifyEndpoint } from "./device.ts";
import { jwksEndpoint, metadataEndpoint, protectedResourceEndpoint } from "./discovery.ts";
import { pageEndpoint } from "./interaction.ts";
import { logoutEndpoint } from "./logout.ts";
import { registrationEndpoint } from "./register.ts";
import { consentEndpoint, loginEndpoint, type SignInDeps } from "./sign_in.ts";
export type { SignInDeps };
import { introspectionEndpoint, revocationEndpoint, tokenEndpoint } from "./token.ts";
import { userinfoEndpoint } from "./userinfo.ts";

/** Every OAuth route. */
export function oauthRoutes(deps: SignInDeps): Route<RequestContext>[] {
  const { provider } = deps;
  return [
    { method: "GET", path: "/.well-known/openid-configuration", handler: metadataEndpoint(provider) },
    { method: "GET", path: "/.well-known/oauth-authorization-server", handler: metadataEndpoint(provider) },
    { method: "GET", path: RESOURCE_METADATA_PATH, handler: protectedResourceEndpoint() },
    { method: ["GET", "POST"], path: "/auth/authorize", handler: pageEndpoint(authorizeEndpoint(deps)) },
    { method: "POST", path: "/auth/login", handler: pageEndpoint(loginEndpoint(deps)) },
    { method: "POST", path: "/auth/consent", handler: pageEndpoint(consentEndpoint(deps)) },
    { method: "POST", path: "/auth/token", handler: tokenEndpoint(provider) },
    { method: "POST", path: "/auth/device", handler: deviceAuthorizationEndpoint(deps) },
    { method: "GET", path: "/auth/device", handler: pageEndpoint(devicePageEndpoint()) },
    { method: "POST", path: "/auth/device/verify", handler: pageEndpoint(deviceVerifyEndpoint(deps)) },
    { method: ["GET", "POST"], path: "/auth/userinfo", handler: userinfoEndpoint(deps.accounts) },
    { method: "POST", path: "/auth/introspect", handler: introspectionEndpoint(provider) },
    { method: "POST", path: "/auth/revoke", handler: revocationEndpoint(provider) },
    { method: "GET", path: "/auth/jwks.json", handler: jwksEndpoint(provider) },
    { method: ["GET", "POST"], path: "/auth/logout", handler: pageEndpoint(logoutEndpoint(deps)) },
    { method: "POST", path: "/auth/register", handler: registrationEndpoint(provider) },
  ];
}
