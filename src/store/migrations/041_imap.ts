/**
 * IMAP's view of every mailbox (RFC 9051 §2.3.1.1 UIDs, RFC 7162 CONDSTORE/QRESYNC), kept by the
 * database itself so no write path (JMAP Email/set and /import, SMTP delivery, Email/copy, a mailbox's
 * or an account's deletion) can leave it wrong:
 *
 * - `imap_settings`: the last UIDVALIDITY handed out (a mailbox gets max(last + 1, now in seconds), so
 *   a value is never given twice, even to a mailbox re-created under an old name), and how many
 *   expunges a mailbox keeps for VANISHED.
 * - `imap_accounts.modseq`: the account's last MODSEQ. Every change of an email (a keyword, a mailbox
 *   joined or left) takes the next one on all its `email_mailboxes` rows.
 * - `imap_mailboxes`: per mailbox UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ (the max of its rows' and its
 *   expunges' MODSEQ), and the MODSEQ up to which its expunge log was purged.
 * - `email_mailboxes.uid` (strictly ascending per mailbox, never reused) and `.modseq`.
 * - `imap_expunges`: (mailbox, modseq, uid) of every message that left a mailbox, for QRESYNC's
 *   VANISHED (RFC 7162 §3.2.10); bounded: past twice `keep_expunges` rows the oldest go down to
 *   `keep_expunges`, and `purged_modseq` records how far, so a client asking from before gets a full
 *   answer instead of a short one.
 *
 * `imap_touch` is no table: inserting an email id into it runs the one statement list that gives the
 * email its next MODSEQ, shared by the triggers below.
 */
export const sql = `
CREATE TABLE imap_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_uid_validity INTEGER NOT NULL,
  keep_expunges INTEGER NOT NULL DEFAULT 10000 CHECK (keep_expunges > 0)
);

CREATE TABLE imap_accounts (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  modseq INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE imap_mailboxes (
  mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid_validity INTEGER NOT NULL,
  uid_next INTEGER NOT NULL DEFAULT 1,
  highest_modseq INTEGER NOT NULL DEFAULT 1,
  expunges INTEGER NOT NULL DEFAULT 0,
  purged_modseq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE imap_expunges (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  modseq INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, modseq)
) WITHOUT ROWID;

ALTER TABLE email_mailboxes ADD COLUMN uid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE email_mailboxes ADD COLUMN modseq INTEGER NOT NULL DEFAULT 1;

-- Existing data: every account at MODSEQ 1, every mailbox a UIDVALIDITY of its own, its mail UIDs in
-- the order it was received.
INSERT INTO imap_accounts (account_id) SELECT id FROM accounts;
INSERT INTO imap_mailboxes (mailbox_id, uid_validity)
SELECT id, unixepoch() + row_number() OVER (ORDER BY id) FROM mailboxes;
INSERT INTO imap_settings (id, last_uid_validity)
SELECT 1, max(unixepoch(), IFNULL((SELECT max(uid_validity) FROM imap_mailboxes), 0));
UPDATE email_mailboxes SET uid = r.n
FROM (
  SELECT mailbox_id, email_id,
         row_number() OVER (PARTITION BY mailbox_id ORDER BY received_at, email_id) AS n
  FROM email_mailboxes
) r
WHERE email_mailboxes.mailbox_id = r.mailbox_id AND email_mailboxes.email_id = r.email_id;
UPDATE imap_mailboxes
SET uid_next = 1 + IFNULL((SELECT max(uid) FROM email_mailboxes m WHERE m.mailbox_id = imap_mailboxes.mailbox_id), 0);

CREATE UNIQUE INDEX email_mailboxes_uid ON email_mailboxes(mailbox_id, uid);
CREATE INDEX email_mailboxes_modseq ON email_mailboxes(mailbox_id, modseq);

CREATE TRIGGER imap_account_new AFTER INSERT ON accounts BEGIN
  INSERT OR IGNORE INTO imap_accounts (account_id) VALUES (NEW.id);
END;

CREATE TRIGGER imap_mailbox_new AFTER INSERT ON mailboxes BEGIN
  INSERT OR IGNORE INTO imap_accounts (account_id) VALUES (NEW.account_id);
  UPDATE imap_settings SET last_uid_validity = max(last_uid_validity + 1, unixepoch());
  INSERT INTO imap_mailboxes (mailbox_id, uid_validity, highest_modseq)
  SELECT NEW.id, s.last_uid_validity, a.modseq
  FROM imap_settings s, imap_accounts a WHERE a.account_id = NEW.account_id;
END;

CREATE VIEW imap_touch AS SELECT 0 AS email_id;
CREATE TRIGGER imap_touch_email INSTEAD OF INSERT ON imap_touch BEGIN
  UPDATE imap_accounts SET modseq = modseq + 1
  WHERE account_id = (SELECT account_id FROM emails WHERE id = NEW.email_id);
  -- IFNULL: while an account is being deleted its counter may already be gone.
  UPDATE email_mailboxes SET modseq = IFNULL((
    SELECT a.modseq FROM emails e JOIN imap_accounts a ON a.account_id = e.account_id WHERE e.id = NEW.email_id
  ), modseq) WHERE email_id = NEW.email_id;
  UPDATE imap_mailboxes SET highest_modseq = IFNULL((
    SELECT a.modseq FROM emails e JOIN imap_accounts a ON a.account_id = e.account_id WHERE e.id = NEW.email_id
  ), highest_modseq) WHERE mailbox_id IN (SELECT mailbox_id FROM email_mailboxes WHERE email_id = NEW.email_id);
END;

-- A message entering a mailbox takes its next UID, and the email its next MODSEQ.
CREATE TRIGGER imap_membership_in AFTER INSERT ON email_mailboxes BEGIN
  UPDATE imap_mailboxes SET uid_next = uid_next + 1 WHERE mailbox_id = NEW.mailbox_id;
  UPDATE email_mailboxes SET uid = (SELECT uid_next - 1 FROM imap_mailboxes WHERE mailbox_id = NEW.mailbox_id)
  WHERE mailbox_id = NEW.mailbox_id AND email_id = NEW.email_id;
  INSERT INTO imap_touch (email_id) VALUES (NEW.email_id);
END;

-- A message leaving a mailbox is an expunge there (unless the mailbox itself is going) and a change
-- of the email in its other mailboxes.
CREATE TRIGGER imap_membership_out AFTER DELETE ON email_mailboxes BEGIN
  UPDATE imap_accounts SET modseq = modseq + 1
  WHERE account_id = (SELECT account_id FROM mailboxes WHERE id = OLD.mailbox_id);
  INSERT INTO imap_expunges (mailbox_id, modseq, uid)
  SELECT OLD.mailbox_id, a.modseq, OLD.uid
  FROM mailboxes m JOIN imap_accounts a ON a.account_id = m.account_id WHERE m.id = OLD.mailbox_id;
  UPDATE imap_mailboxes SET expunges = expunges + 1, highest_modseq = IFNULL((
    SELECT a.modseq FROM mailboxes m JOIN imap_accounts a ON a.account_id = m.account_id WHERE m.id = OLD.mailbox_id
  ), highest_modseq) WHERE mailbox_id = OLD.mailbox_id;
  INSERT INTO imap_touch (email_id)
  SELECT OLD.email_id WHERE EXISTS (SELECT 1 FROM email_mailboxes WHERE email_id = OLD.email_id);
END;

-- A keyword set or cleared on an email in a mailbox (an email still being stored has none yet).
CREATE TRIGGER imap_keyword_on AFTER INSERT ON email_keywords
WHEN EXISTS (SELECT 1 FROM email_mailboxes WHERE email_id = NEW.email_id) BEGIN
  INSERT INTO imap_touch (email_id) VALUES (NEW.email_id);
END;
CREATE TRIGGER imap_keyword_off AFTER DELETE ON email_keywords
WHEN EXISTS (SELECT 1 FROM email_mailboxes WHERE email_id = OLD.email_id) BEGIN
  INSERT INTO imap_touch (email_id) VALUES (OLD.email_id);
END;

-- The expunge log's bound: past twice keep_expunges rows, the oldest go and purged_modseq says how far.
CREATE TRIGGER imap_expunges_bound AFTER UPDATE OF expunges ON imap_mailboxes
WHEN NEW.expunges >= 2 * (SELECT keep_expunges FROM imap_settings) BEGIN
  UPDATE imap_mailboxes SET purged_modseq = (
    SELECT x.modseq FROM imap_expunges x WHERE x.mailbox_id = NEW.mailbox_id
    ORDER BY x.modseq DESC LIMIT 1 OFFSET (SELECT keep_expunges FROM imap_settings)
  ) WHERE mailbox_id = NEW.mailbox_id;
  DELETE FROM imap_expunges WHERE mailbox_id = NEW.mailbox_id
    AND modseq <= (SELECT purged_modseq FROM imap_mailboxes WHERE mailbox_id = NEW.mailbox_id);
  UPDATE imap_mailboxes SET expunges = (SELECT count(*) FROM imap_expunges WHERE mailbox_id = NEW.mailbox_id)
  WHERE mailbox_id = NEW.mailbox_id;
END;
`;
