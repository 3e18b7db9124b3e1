/** The OAuth 2.0 / OpenID Connect provider: its core services and its route table. */
export { OAuthProvider } from "./provider.ts";
export { type Sealer, textSealer } from "./sealer.ts";
export type { ClientCredentials, ProviderDeps } from "./provider.ts";
export { oauthRoutes } from "./endpoints/routes.ts";
export type { SignInDeps } from "./endpoints/routes.ts";
export { clientToWire } from "./clients.ts";
