/**
 * Which thread a new email joins, and the merging of threads it links (RFC 8621 §3).
 *
 * The rule, as Gmail, Fastmail and Stalwart thread: `thread_refs` maps every Message-ID an email
 * carries (Message-ID) or names (In-Reply-To, References) to its thread. A new email is linked to each
 * thread that shares one of those ids with it, and joins a linked thread when
 *   1. one of them names the other: an id it names is the Message-ID of an email in the thread, or an
 *      email in the thread names its own Message-ID (a reply, even with a changed subject, or a parent
 *      arriving after its replies); or
 *   2. they only share an id (both reply to a message not stored here, or carry the same Message-ID)
 *      and the thread holds an email with the same base subject (so two unrelated conversations that
 *      quote one old message stay apart).
 * When it joins more than one thread, they become one: the lowest thread id stays, the emails of the
 * others move to it (their threadId changes) and the others are destroyed, as RFC 8621 §3 allows
 * ("the server MAY merge the threads").
 *
 * A copy of a message the account already holds (the same blob: an IMAP APPEND of the same octets)
 * joins the thread of that message, with or without a Message-ID.
 */
import type { Db } from "./db.ts";

/** What the threading of one new email decided. */
export interface ThreadChoice {
  /** The thread it joins, or undefined for a new one. */
  threadId: number | undefined;
  /** Other threads it links, to merge into `threadId`. */
  merge: number[];
}

/** The thread an email with these ids and base subject joins, and the threads it makes one with it. */
export function chooseThread(
  db: Db,
  email: { accountId: number; blobId: number; threadIds: string[]; ownIds: string[]; baseSubject: string },
): ThreadChoice {
  const original = db.get<{ thread_id: number }>(
    "SELECT thread_id FROM emails WHERE account_id = ? AND blob_id = ? ORDER BY id LIMIT 1",
    email.accountId,
    email.blobId,
  );
  if (original) return { threadId: Number(original.thread_id), merge: [] };
  if (email.threadIds.length === 0) return { threadId: undefined, merge: [] };
  const named = email.threadIds.filter((id) => !email.ownIds.includes(id));
  const rows = db.all<{ thread_id: number }>(
    `SELECT DISTINCT r.thread_id FROM thread_refs r
     WHERE r.account_id = ? AND r.message_id IN (SELECT value FROM json_each(?))
     ORDER BY r.thread_id`,
    email.accountId,
    JSON.stringify(email.threadIds),
  );
  const joined = rows.map((r) => Number(r.thread_id)).filter((threadId) =>
    db.get(
      `SELECT 1 FROM emails e WHERE e.thread_id = ? AND (
         e.base_subject = ?
         OR EXISTS (SELECT 1 FROM json_each(e.headers, '$.messageId') j
                    WHERE j.value IN (SELECT value FROM json_each(?)))
         OR EXISTS (SELECT 1 FROM json_each(e.headers, '$.inReplyTo') j
                    WHERE j.value IN (SELECT value FROM json_each(?)))
         OR EXISTS (SELECT 1 FROM json_each(e.headers, '$.references') j
                    WHERE j.value IN (SELECT value FROM json_each(?))))
       LIMIT 1`,
      threadId,
      email.baseSubject,
      JSON.stringify(named),
      JSON.stringify(email.ownIds),
      JSON.stringify(email.ownIds),
    ) !== undefined
  );
  return { threadId: joined[0], merge: joined.slice(1) };
}

/**
 * Moves the emails of `others` into `target` and deletes `others`; the per-mailbox thread counts
 * follow through the email_mailboxes triggers (each moved email leaves and re-enters its mailboxes).
 * Returns the ids of the emails that moved.
 */
export function mergeThreads(db: Db, target: number, others: readonly number[]): number[] {
  const moved: number[] = [];
  for (const other of others) {
    const emails = db.all<{ id: number }>("SELECT id FROM emails WHERE thread_id = ?", other);
    for (const { id } of emails) {
      const boxes = db.all<{ mailbox_id: number; received_at: number }>(
        "SELECT mailbox_id, received_at FROM email_mailboxes WHERE email_id = ?",
        id,
      );
      db.run("DELETE FROM email_mailboxes WHERE email_id = ?", id);
      db.run("UPDATE emails SET thread_id = ? WHERE id = ?", target, id);
      for (const box of boxes) {
        db.run(
          "INSERT INTO email_mailboxes (mailbox_id, email_id, received_at) VALUES (?, ?, ?)",
          box.mailbox_id,
          id,
          box.received_at,
        );
      }
      moved.push(Number(id));
    }
    db.run(
      `INSERT OR IGNORE INTO thread_refs (account_id, message_id, thread_id)
       SELECT account_id, message_id, ? FROM thread_refs WHERE thread_id = ?`,
      target,
      other,
    );
    db.run("UPDATE email_submissions SET thread_id = ? WHERE thread_id = ?", target, other);
    db.run("DELETE FROM threads WHERE id = ?", other);
  }
  return moved;
}
