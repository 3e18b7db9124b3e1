/** IMAP surface (RFC 9051 with IMAP4rev1 compatibility): command decoder, session, responses; no SQL. */
export type * from "./command.ts";
export { createCommandDecoder, type ImapCommandDecoder } from "./decoder.ts";
export { decodeModifiedUtf7, encodeModifiedUtf7 } from "./utf7.ts";
export { formatSequenceSet } from "./sequence.ts";
