/**
 * Whether a logged update changed only counts (a Mailbox's totalEmails, unreadEmails, totalThreads,
 * unreadThreads), for Mailbox/changes' updatedProperties (RFC 8621 §2.2). Rows logged before this
 * migration count as any change: updatedProperties is null across them, as the RFC asks when the
 * server cannot tell.
 */
export const sql = `
ALTER TABLE changes ADD COLUMN counts_only INTEGER NOT NULL DEFAULT 0;
`;
