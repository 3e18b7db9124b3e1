/**
 * x:MailboxGrant's change log, written by the database as x:OAuthGrant's is: a grant made, its rights
 * changed, or removed however it goes (unshared, its mailbox, owner or grantee deleted by cascade, a
 * repair), so no path can forget to log it. Directory-wide (account_id NULL) with the mailbox's owner
 * as owner.
 */
const logged = (event: string, row: "NEW" | "OLD", kind: number, when = "") => `
CREATE TRIGGER acl_mailbox_${event} AFTER ${event.toUpperCase()} ON acl
WHEN ${row}.object_type = 'Mailbox' AND ${row}.mailbox_id IS NOT NULL${when} BEGIN
  INSERT INTO changes (account_id, owner_id, type, object_id, kind, created_at)
  VALUES (NULL, ${row}.owner_id, 'MailboxGrant', ${row}.id, ${kind},
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;`;

export const sql = [
  logged("insert", "NEW", 1),
  logged("update", "NEW", 2, " AND NEW.rights IS NOT OLD.rights"),
  logged("delete", "OLD", 3),
].join("\n");
