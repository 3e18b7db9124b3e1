/** What the directory services use from lower layers. */
export * from "../model/errors.ts";
export * from "../model/ids.ts";
export * from "../model/objects/mod.ts";
export { DEFAULT_MAILBOXES } from "../model/mail.ts";
export type * from "../model/types.ts";
export type { AccountChange, AccountRecord, AddressRecord, SequencedTable, Store } from "../store/mod.ts";
