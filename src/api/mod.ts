/** The management HTTP surface: health, metrics, the caller's account, mail-client auto-configuration. */
export { apiRoutes } from "./routes.ts";
export type { ApiDeps } from "./routes.ts";
export { autoconfigRoutes } from "./autoconfig.ts";
export { autodiscoverRoutes } from "./autodiscover.ts";
export type { AutoconfigDeps } from "./mail_client.ts";
