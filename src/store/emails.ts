/** Persistence of emails, their mailboxes and keywords, threads, and the counts of every mailbox. */
import type { Db } from "./db.ts";
import {
  type EmailRecord,
  type EmailsById,
  emailsFromJson,
  MAX_JSON_EMAILS,
  readEmails,
} from "./email_records.ts";
import { chooseThread, mergeThreads } from "./threading.ts";
import { insertNewMemberships } from "./imap_membership.ts";
import { IMAP_SIZE_OF_BLOB } from "./imap_size.ts";
import { allWords, type EmailQuery, type EmailQueryResult, usesFullText } from "./email_query.ts";
import { mainThreadEmailQuery, staysOnMainThread } from "./email_query_snapshot.ts";
import type { ReadPool } from "./read_pool.ts";
import type { SearchIndexHooks } from "./search_index.ts";

export type { EmailRecord };

/** What an import stores (the blob is already stored). */
export interface NewEmail {
  accountId: number;
  blobId: number;
  size: number;
  receivedAt: number;
  sentAt: string | null;
  /** sentAt as an instant for sorting (receivedAt when the message has no readable Date). */
  sentMs: number;
  subject: string;
  /** The subject without Re:/Fwd: prefixes, lower case: threads only join on an equal one. */
  baseSubject: string;
  fromSort: string;
  toSort: string;
  hasAttachment: boolean;
  preview: string;
  headers: string;
  mailboxIds: number[];
  keywords: string[];
  /** Message-IDs this email carries and names (References, In-Reply-To), for threading. */
  threadIds: string[];
  /**
   * The IMAP size (RFC822.SIZE, bare LFs counted as CRLF) when the caller counted it: null when it is
   * `size` (no bare LF). Absent, the insert measures the stored blob (imap_size.ts), which reads the
   * message back and copies it twice in SQL: the largest cost of the emails INSERT for a 10 KB message.
   */
  imapSize?: number | null;
}

/** The four counts of a mailbox (RFC 8621 §2). */
export interface MailboxCounts {
  totalEmails: number;
  unreadEmails: number;
  totalThreads: number;
  unreadThreads: number;
}

/** Persistence of emails. */
export interface EmailRepository {
  /**
   * Stores an email in the thread it joins (the rule is in threading.ts) or a new one; returns its id,
   * its thread id, whether the thread is new, and the emails and threads merged into its thread. Call
   * in a transaction. The full-text index takes it after the commit (search_index.ts).
   */
  insert(email: NewEmail, now: number): Promise<{
    id: number;
    threadId: number;
    newThread: boolean;
    merged: { emailIds: number[]; threadIds: number[] };
  }>;
  /**
   * The account's oldest email with that blob, if any (an Email/import of the same message finds it;
   * an IMAP APPEND stores another: migrations/046_email_copies.ts).
   */
  idByBlob(accountId: number, blobId: number): Promise<number | undefined>;
  /** Emails of an account by id; ids not found are left out. */
  get(accountId: number, ids: readonly number[]): Promise<EmailRecord[]>;
  /** Adds and removes keywords of an email (the mailbox triggers recount $seen). */
  setKeywords(emailId: number, change: { add: readonly string[]; remove: readonly string[] }): Promise<void>;
  /** Adds the email to mailboxes and takes it out of others. */
  setMailboxes(
    email: Pick<EmailRecord, "id" | "receivedAt">,
    change: { add: readonly number[]; remove: readonly number[] },
  ): Promise<void>;
  /** The emails in a mailbox, with how many mailboxes each is in. */
  inMailbox(mailboxId: number): Promise<{ id: number; threadId: number; mailboxCount: number }[]>;
  /** Removes an email; returns whether its thread went with it (it was the thread's last email). */
  delete(email: Pick<EmailRecord, "id" | "threadId">): Promise<{ threadDeleted: boolean }>;
  /** Email ids of each thread of an account, oldest first (RFC 8621 §3: sorted by receivedAt). */
  threads(accountId: number, threadIds: readonly number[]): Promise<Map<number, number[]>>;
  /** Counts of the mailboxes asked for (a mailbox without emails is all zeros). */
  counts(mailboxIds: readonly number[]): Promise<Map<number, MailboxCounts>>;
  /**
   * The emails of `ids` whose subject or body has every search word of one of the `conditions`
   * (RFC 8621 §5 SearchSnippet marks only those), once the index holds every email committed before.
   */
  matching(ids: readonly number[], conditions: readonly (readonly string[])[]): Promise<Set<number>>;
  /**
   * Runs an Email/query (see email_query.ts) with the account's Email state of the same snapshot, on a
   * read worker when the store has them (email_query_snapshot.ts); one with a full-text condition once
   * the index holds every email committed before.
   */
  query(query: EmailQuery): Promise<EmailQueryResult>;
}

const INSERT_EMAIL =
  `INSERT INTO emails (account_id, thread_id, blob_id, imap_size, size, received_at, sent_at,
  sent_ms, subject, base_subject, from_sort, to_sort, has_attachment, preview, headers, created_at)
  VALUES (?, ?, ?, IMAP_SIZE, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/** The insert that measures the IMAP size of the blob (its fourth parameter is the blob id). */
const INSERT_MEASURED = INSERT_EMAIL.replace(
  "IMAP_SIZE",
  `(SELECT ${IMAP_SIZE_OF_BLOB} FROM blobs b WHERE b.id = ?)`,
);
/** The insert given the IMAP size (its fourth parameter). */
const INSERT_COUNTED = INSERT_EMAIL.replace("IMAP_SIZE", "?");

/**
 * The fewest emails a `get` reads on a read worker rather than the main thread. The hop costs about
 * 100 µs of CPU whatever the size; what it takes off the main thread grows with the emails. Measured on
 * the 10,000-message corpus, CPU per get on the main thread alone / via a worker (all threads) / of which
 * the main thread's: 8 ids 110 / 205 / 60 µs, 16 ids 185 / 285 / 75 µs, 50 ids 500 / 570 / 100 µs.
 */
export const READ_WORKER_MIN_EMAILS = 16;

/** No indexer: nothing is indexed (a store used without the mail layer). */
const NO_INDEXER: SearchIndexHooks = { stored() {}, caughtUp: () => Promise.resolve() };

/**
 * SQLite implementation of {@link EmailRepository}; queries go to `readers` when given. `search` is
 * told of each commit that stored emails and asked to catch up before a full-text read.
 */
export function sqliteEmails(
  db: Db,
  options: { readers?: ReadPool; search?: SearchIndexHooks } = {},
): EmailRepository {
  const { readers, search = NO_INDEXER } = options;
  const done = <T>(value: T) => Promise.resolve(value);
  return {
    insert(email, now) {
      const ownIds = (JSON.parse(email.headers) as { messageId?: string[] | null }).messageId ?? [];
      const choice = chooseThread(db, { ...email, ownIds });
      let threadId = choice.threadId;
      const merged = threadId === undefined ? [] : mergeThreads(db, threadId, choice.merge);
      const newThread = threadId === undefined;
      if (threadId === undefined) {
        threadId = db.run("INSERT INTO threads (account_id) VALUES (?)", email.accountId).id;
      }
      const { id } = db.run(
        email.imapSize === undefined ? INSERT_MEASURED : INSERT_COUNTED,
        email.accountId,
        threadId,
        email.blobId,
        email.imapSize === undefined ? email.blobId : email.imapSize,
        email.size,
        email.receivedAt,
        email.sentAt,
        email.sentMs,
        email.subject,
        email.baseSubject,
        email.fromSort,
        email.toSort,
        email.hasAttachment ? 1 : 0,
        email.preview,
        email.headers,
        now,
      );
      // Keywords first: the mailbox triggers then count the email as read or unread at once.
      for (const keyword of email.keywords) {
        db.run("INSERT OR IGNORE INTO email_keywords (email_id, keyword) VALUES (?, ?)", id, keyword);
      }
      // With their IMAP UIDs and MODSEQ (imap_membership.ts); a mailbox named twice is one row.
      insertNewMemberships(db, {
        accountId: email.accountId,
        emailId: id,
        mailboxIds: [...new Set(email.mailboxIds)],
        receivedAt: email.receivedAt,
      });
      for (const messageId of email.threadIds) {
        db.run(
          "INSERT OR IGNORE INTO thread_refs (account_id, message_id, thread_id) VALUES (?, ?, ?)",
          email.accountId,
          messageId,
          threadId,
        );
      }
      db.afterCommit(() => search.stored());
      return done({ id, threadId, newThread, merged: { emailIds: merged, threadIds: choice.merge } });
    },
    setKeywords(emailId, change) {
      for (const keyword of change.remove) {
        db.run("DELETE FROM email_keywords WHERE email_id = ? AND keyword = ?", emailId, keyword);
      }
      for (const keyword of change.add) {
        db.run("INSERT OR IGNORE INTO email_keywords (email_id, keyword) VALUES (?, ?)", emailId, keyword);
      }
      return done(undefined);
    },
    setMailboxes(email, change) {
      for (const mailboxId of change.remove) {
        db.run("DELETE FROM email_mailboxes WHERE mailbox_id = ? AND email_id = ?", mailboxId, email.id);
      }
      for (const mailboxId of change.add) {
        db.run(
          "INSERT OR IGNORE INTO email_mailboxes (mailbox_id, email_id, received_at) VALUES (?, ?, ?)",
          mailboxId,
          email.id,
          email.receivedAt,
        );
      }
      return done(undefined);
    },
    inMailbox(mailboxId) {
      const rows = db.all<{ id: number; thread_id: number; boxes: number }>(
        `SELECT e.id, e.thread_id, (SELECT count(*) FROM email_mailboxes x WHERE x.email_id = e.id) AS boxes
         FROM email_mailboxes m JOIN emails e ON e.id = m.email_id WHERE m.mailbox_id = ?`,
        mailboxId,
      );
      return done(
        rows.map((r) => ({ id: Number(r.id), threadId: Number(r.thread_id), mailboxCount: Number(r.boxes) })),
      );
    },
    delete(email) {
      // Memberships first, while the email row is there for the count triggers to read.
      db.run("DELETE FROM email_mailboxes WHERE email_id = ?", email.id);
      db.run("DELETE FROM emails WHERE id = ?", email.id);
      const left = db.get("SELECT 1 FROM emails WHERE thread_id = ? LIMIT 1", email.threadId);
      if (!left) db.run("DELETE FROM threads WHERE id = ?", email.threadId);
      return done({ threadDeleted: !left });
    },
    idByBlob(accountId, blobId) {
      const row = db.get<{ id: number }>(
        "SELECT id FROM emails WHERE account_id = ? AND blob_id = ? ORDER BY id LIMIT 1",
        accountId,
        blobId,
      );
      return done(row ? Number(row.id) : undefined);
    },
    get(accountId, ids) {
      // A write transaction open on the main connection (any request's) must see its own rows, which a
      // worker's connection does not until the commit: then the read stays here, as do small ones.
      return readers && ids.length >= READ_WORKER_MIN_EMAILS && ids.length <= MAX_JSON_EMAILS &&
          !db.inTransaction
        ? readers.run<string>("emails.get", { accountId, ids } satisfies EmailsById, accountId).then(
          emailsFromJson,
        )
        : done(readEmails(db, { accountId, ids }));
    },
    threads(accountId, threadIds) {
      const out = new Map<number, number[]>();
      if (threadIds.length === 0) return done(out);
      const rows = db.all<{ id: number; thread_id: number }>(
        `SELECT id, thread_id FROM emails WHERE account_id + 0 = ? AND thread_id IN (SELECT value FROM json_each(?))
         ORDER BY received_at, id`,
        accountId,
        JSON.stringify(threadIds),
      );
      for (const row of rows) {
        const list = out.get(Number(row.thread_id)) ?? [];
        list.push(Number(row.id));
        out.set(Number(row.thread_id), list);
      }
      return done(out);
    },
    counts(mailboxIds) {
      const out = new Map<number, MailboxCounts>();
      if (mailboxIds.length === 0) return done(out);
      const rows = db.all(
        "SELECT * FROM mailbox_counts WHERE mailbox_id IN (SELECT value FROM json_each(?))",
        JSON.stringify(mailboxIds),
      );
      for (const row of rows) {
        out.set(Number(row.mailbox_id), {
          totalEmails: Number(row.total_emails),
          unreadEmails: Number(row.unread_emails),
          totalThreads: Number(row.total_threads),
          unreadThreads: Number(row.unread_threads),
        });
      }
      return done(out);
    },
    async query(query) {
      if (query.filter !== null && usesFullText(query.filter)) await search.caughtUp();
      return readers && !staysOnMainThread(query)
        ? await readers.run<EmailQueryResult>("emails.query", query, query.accountId)
        : mainThreadEmailQuery(db, query);
    },
    async matching(ids, conditions) {
      const asked = conditions.filter((words) => words.length > 0);
      if (ids.length === 0 || asked.length === 0) return new Set<number>();
      await search.caughtUp();
      const rows = db.all<{ id: number }>(
        `SELECT rowid AS id FROM email_search
         WHERE email_search MATCH ? AND rowid IN (SELECT value FROM json_each(?))`,
        `{subject body} : (${asked.map((words) => `(${allWords(words)})`).join(" OR ")})`,
        JSON.stringify(ids),
      );
      return new Set(rows.map((r) => Number(r.id)));
    },
  };
}
