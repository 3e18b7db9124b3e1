/**
 * Mailboxes (RFC 8621 §2) and their sharing. A mailbox grant is an acl row naming the mailbox too, so
 * deleting the mailbox, the owner or the grantee removes it. Existing users get the default mailboxes.
 */
export const sql = `
CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  parent_id INTEGER REFERENCES mailboxes(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT,
  sort_order INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX mailboxes_account ON mailboxes(account_id);
CREATE INDEX mailboxes_parent ON mailboxes(parent_id);
CREATE UNIQUE INDEX mailboxes_role ON mailboxes(account_id, role) WHERE role IS NOT NULL;
CREATE UNIQUE INDEX mailboxes_sibling_name ON mailboxes(account_id, IFNULL(parent_id, 0), name);

CREATE TABLE mailbox_subscriptions (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  PRIMARY KEY (account_id, mailbox_id)
) WITHOUT ROWID;
CREATE INDEX mailbox_subscriptions_mailbox ON mailbox_subscriptions(mailbox_id);

ALTER TABLE acl ADD COLUMN mailbox_id INTEGER REFERENCES mailboxes(id) ON DELETE CASCADE;
CREATE INDEX acl_mailbox ON acl(mailbox_id);
CREATE INDEX acl_grantee_type ON acl(grantee_id, object_type);

INSERT INTO mailboxes (account_id, parent_id, name, role, sort_order, created_at, updated_at)
SELECT a.id, NULL, d.name, d.role, d.sort_order, CAST(unixepoch('subsec') * 1000 AS INTEGER),
       CAST(unixepoch('subsec') * 1000 AS INTEGER)
FROM accounts a CROSS JOIN (
  SELECT 'Inbox' AS name, 'inbox' AS role, 1 AS sort_order UNION ALL
  SELECT 'Drafts', 'drafts', 2 UNION ALL
  SELECT 'Sent', 'sent', 3 UNION ALL
  SELECT 'Archive', 'archive', 4 UNION ALL
  SELECT 'Junk', 'junk', 5 UNION ALL
  SELECT 'Trash', 'trash', 6
) d
WHERE a.type = 'User'
ORDER BY a.id, d.sort_order;

INSERT INTO mailbox_subscriptions (account_id, mailbox_id) SELECT account_id, id FROM mailboxes;
`;
