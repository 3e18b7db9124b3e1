/** Mail: mailboxes and their sharing (messages, MIME and search come with the Email store). */
export { MAILBOX_LIMITS, MailboxService } from "./mailboxes.ts";
export type { MailboxInput, MailboxView } from "./mailboxes.ts";
