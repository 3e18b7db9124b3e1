/** The OAuth 2.0 / OpenID Connect provider: its core services and its route table. */
export { OAuthProvider } from "./provider.ts";
export { type Sealer, textSealer } from "./sealer.ts";
/** BLAKE3 (src/oauth/blake3.ts): the one implementation, for blob ids and header cache keys too. */
export { blake3Hash } from "./blake3.ts";
export { blobHasher } from "./blake3_blobs.ts";
export type { ClientCredentials, ProviderDeps } from "./provider.ts";
export { oauthRoutes } from "./endpoints/routes.ts";
export type { SignInDeps } from "./endpoints/routes.ts";
export { clientToWire } from "./clients.ts";
