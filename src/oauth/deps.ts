/** What the OAuth provider uses from lower layers. */
export * from "../model/errors.ts";
export * from "../model/ids.ts";
export * from "../model/oauth.ts";
export * from "../model/objects/mod.ts";
export type * from "../model/types.ts";
export type { Store } from "../directory/mod.ts";
