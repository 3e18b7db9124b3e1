/** The management HTTP surface: health, metrics, the caller's account. */
export { apiRoutes } from "./routes.ts";
export type { ApiDeps } from "./routes.ts";
