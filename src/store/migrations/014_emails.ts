/**
 * Emails (RFC 8621 §4) and threads (§3). An email is a blob (the message as received) with the
 * properties lists need, kept in columns so a mailbox listing never parses a message. Its mailboxes
 * and keywords are rows of their own; the count of emails and threads, read and unread, of every
 * mailbox is kept by the database itself through triggers, so no write path can leave it wrong.
 *
 * Threads: `thread_refs` maps each Message-ID an email carries or names (In-Reply-To, References) to
 * its thread, which is how a reply finds its thread; a thread goes with its last email.
 */
export const sql = `
CREATE TABLE threads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
);
CREATE INDEX threads_account ON threads(account_id);

CREATE TABLE emails (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  blob_id INTEGER NOT NULL REFERENCES blobs(id),
  size INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  sent_at TEXT,
  sent_ms INTEGER,
  subject TEXT NOT NULL,
  base_subject TEXT NOT NULL,
  from_sort TEXT NOT NULL,
  to_sort TEXT NOT NULL,
  has_attachment INTEGER NOT NULL,
  preview TEXT NOT NULL,
  headers TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX emails_account_received ON emails(account_id, received_at, id);
CREATE INDEX emails_thread ON emails(thread_id);
CREATE UNIQUE INDEX emails_account_blob ON emails(account_id, blob_id);
CREATE INDEX emails_blob ON emails(blob_id);

CREATE TABLE email_mailboxes (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, email_id)
) WITHOUT ROWID;
CREATE INDEX email_mailboxes_received ON email_mailboxes(mailbox_id, received_at, email_id);
CREATE INDEX email_mailboxes_email ON email_mailboxes(email_id);

CREATE TABLE email_keywords (
  email_id INTEGER NOT NULL REFERENCES emails(id) ON DELETE CASCADE,
  keyword TEXT NOT NULL,
  PRIMARY KEY (email_id, keyword)
) WITHOUT ROWID;
CREATE INDEX email_keywords_keyword ON email_keywords(keyword, email_id);

-- Full-text search (RFC 8621 §4.4.1 text, from, to, cc, bcc, subject, body): one row per email,
-- rowid = email id, gone with the email.
CREATE VIRTUAL TABLE email_search USING fts5(
  subject, from_text, to_text, cc_text, bcc_text, body, attachments,
  tokenize = 'unicode61 remove_diacritics 2', detail = column
);
INSERT INTO email_search (email_search, rank) VALUES ('automerge', 8);
CREATE TRIGGER emails_unsearchable AFTER DELETE ON emails BEGIN
  DELETE FROM email_search WHERE rowid = OLD.id;
END;

CREATE TABLE thread_refs (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  message_id TEXT NOT NULL,
  thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  PRIMARY KEY (account_id, message_id, thread_id)
) WITHOUT ROWID;
CREATE INDEX thread_refs_thread ON thread_refs(thread_id);

-- Per mailbox and thread: emails, and unread ones; per mailbox: the four counts of RFC 8621 §2.
CREATE TABLE mailbox_threads (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  thread_id INTEGER NOT NULL,
  emails INTEGER NOT NULL,
  unread INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, thread_id)
) WITHOUT ROWID;
CREATE TABLE mailbox_counts (
  mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
  total_emails INTEGER NOT NULL DEFAULT 0,
  unread_emails INTEGER NOT NULL DEFAULT 0,
  total_threads INTEGER NOT NULL DEFAULT 0,
  unread_threads INTEGER NOT NULL DEFAULT 0
);

-- An email entering a mailbox: +1 in its thread's row there, unread unless it has $seen.
CREATE TRIGGER email_mailboxes_in AFTER INSERT ON email_mailboxes BEGIN
  INSERT INTO mailbox_threads (mailbox_id, thread_id, emails, unread)
  SELECT NEW.mailbox_id, e.thread_id, 1,
         NOT EXISTS (SELECT 1 FROM email_keywords k WHERE k.email_id = e.id AND k.keyword = '$seen')
  FROM emails e WHERE e.id = NEW.email_id
  ON CONFLICT (mailbox_id, thread_id) DO UPDATE
  SET emails = emails + 1, unread = unread + excluded.unread;
END;
CREATE TRIGGER email_mailboxes_out AFTER DELETE ON email_mailboxes BEGIN
  UPDATE mailbox_threads SET emails = emails - 1,
    unread = unread - NOT EXISTS (SELECT 1 FROM email_keywords k WHERE k.email_id = OLD.email_id AND k.keyword = '$seen')
  WHERE mailbox_id = OLD.mailbox_id
    AND thread_id = (SELECT thread_id FROM emails WHERE id = OLD.email_id);
  DELETE FROM mailbox_threads WHERE mailbox_id = OLD.mailbox_id AND emails <= 0;
END;
CREATE TRIGGER email_seen_on AFTER INSERT ON email_keywords WHEN NEW.keyword = '$seen' BEGIN
  UPDATE mailbox_threads SET unread = unread - 1
  WHERE thread_id = (SELECT thread_id FROM emails WHERE id = NEW.email_id)
    AND mailbox_id IN (SELECT mailbox_id FROM email_mailboxes WHERE email_id = NEW.email_id);
END;
CREATE TRIGGER email_seen_off AFTER DELETE ON email_keywords WHEN OLD.keyword = '$seen' BEGIN
  UPDATE mailbox_threads SET unread = unread + 1
  WHERE thread_id = (SELECT thread_id FROM emails WHERE id = OLD.email_id)
    AND mailbox_id IN (SELECT mailbox_id FROM email_mailboxes WHERE email_id = OLD.email_id);
END;

-- The per-mailbox counts follow the per-thread rows.
CREATE TRIGGER mailbox_threads_in AFTER INSERT ON mailbox_threads BEGIN
  INSERT INTO mailbox_counts (mailbox_id, total_emails, unread_emails, total_threads, unread_threads)
  VALUES (NEW.mailbox_id, NEW.emails, NEW.unread, 1, NEW.unread > 0)
  ON CONFLICT (mailbox_id) DO UPDATE SET
    total_emails = total_emails + NEW.emails, unread_emails = unread_emails + NEW.unread,
    total_threads = total_threads + 1, unread_threads = unread_threads + (NEW.unread > 0);
END;
CREATE TRIGGER mailbox_threads_change AFTER UPDATE ON mailbox_threads BEGIN
  UPDATE mailbox_counts SET
    total_emails = total_emails + NEW.emails - OLD.emails,
    unread_emails = unread_emails + NEW.unread - OLD.unread,
    unread_threads = unread_threads + (NEW.unread > 0) - (OLD.unread > 0)
  WHERE mailbox_id = NEW.mailbox_id;
END;
CREATE TRIGGER mailbox_threads_out AFTER DELETE ON mailbox_threads BEGIN
  UPDATE mailbox_counts SET
    total_emails = total_emails - OLD.emails, unread_emails = unread_emails - OLD.unread,
    total_threads = total_threads - 1, unread_threads = unread_threads - (OLD.unread > 0)
  WHERE mailbox_id = OLD.mailbox_id;
END;
`;
