/** IMAP surface (RFC 9051 with IMAP4rev1 compatibility): command decoder, session, responses; no SQL. */
export type * from "./command.ts";
