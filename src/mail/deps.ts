/** What the mail services use from lower layers. */
export * from "../model/errors.ts";
export * from "../model/bytes.ts";
export * from "../model/mail.ts";
export type * from "../model/types.ts";
export type { Store } from "../store/mod.ts";
