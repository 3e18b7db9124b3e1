/** IMAP surface (RFC 9051 with IMAP4rev1 compatibility): command decoder, session, responses; no SQL. */
export type * from "./command.ts";
export { createCommandDecoder, type ImapCommandDecoder } from "./decoder.ts";
export { ResponseWriter } from "./response.ts";
export { type ImapServer, type ImapServerOptions, type ImapTlsSource, startImapServer } from "./server.ts";
export type { SessionDeps, WatchedSession } from "./session.ts";
export { ImapMetrics } from "./metrics.ts";
export { IMAP_SCOPE } from "./commands/login.ts";
export type {
  ImapMailbox,
  ImapMailboxChange,
  ImapMailboxes,
  ImapMailboxStatus,
  ImapQuota,
} from "./mailbox_deps.ts";
export { decodeModifiedUtf7, encodeModifiedUtf7 } from "./utf7.ts";
export { formatSequenceSet } from "./sequence.ts";
