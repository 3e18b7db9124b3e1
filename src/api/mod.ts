/** The management HTTP surface: health, metrics, the caller's account, ACME HTTP-01 answers. */
export { apiRoutes } from "./routes.ts";
export type { ApiDeps } from "./routes.ts";
export { acmeChallengeRoutes } from "./acme_challenge.ts";
