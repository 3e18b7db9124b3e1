/**
 * The management HTTP surface: health, metrics, the caller's account, mail-client auto-configuration,
 * ACME HTTP-01 answers.
 */
export { apiRoutes } from "./routes.ts";
export type { ApiDeps } from "./routes.ts";
export { autoconfigRoutes } from "./autoconfig.ts";
export { autodiscoverRoutes } from "./autodiscover.ts";
export type { AutoconfigDeps } from "./mail_client.ts";
export { acmeChallengeRoutes } from "./acme_challenge.ts";
export { mtaStsRoutes } from "./mta_sts.ts";
