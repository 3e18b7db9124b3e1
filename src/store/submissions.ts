/** Persistence of email submissions. */
import type { Db, Row } from "./db.ts";

/** An SMTP address with its parameters (RFC 8621 §7 Address). */
export interface EnvelopeAddress {
  email: string;
  parameters: Record<string, string | null> | null;
}

/** RFC 8621 §7 DeliveryStatus of one recipient. */
export interface DeliveryStatus {
  smtpReply: string;
  delivered: "queued" | "yes" | "no" | "unknown";
  displayed: "unknown" | "yes";
}

/** A submission as stored. */
export interface SubmissionRecord {
  id: number;
  accountId: number;
  identityId: number;
  emailId: number;
  threadId: number;
  envelope: { mailFrom: EnvelopeAddress; rcptTo: EnvelopeAddress[] };
  sendAt: number;
  undoStatus: "pending" | "final" | "canceled";
  deliveryStatus: Record<string, DeliveryStatus> | null;
  createdAt: number;
  /** When the claim of the worker sending it runs out (0: not claimed); see {@link SubmissionRepository.claim}. */
  claimedUntil: number;
  /**
   * Handed whole to the outbound queue (store/queue.ts): no local recipient is left to deliver, the
   * due loop leaves it alone, and undoing it cancels its queued message. Default false.
   */
  inQueue?: boolean;
}

/** Persistence of submissions. */
export interface SubmissionRepository {
  list(accountId: number): Promise<SubmissionRecord[]>;
  get(id: number): Promise<SubmissionRecord | undefined>;
  insert(submission: Omit<SubmissionRecord, "id">): Promise<number>;
  /** Sets the undo status and the delivery status, and releases the claim. */
  settle(
    id: number,
    undoStatus: SubmissionRecord["undoStatus"],
    deliveryStatus: SubmissionRecord["deliveryStatus"],
  ): Promise<void>;
  delete(id: number): Promise<boolean>;
  /** Pending submissions whose time has come and that nobody holds a live claim on. */
  due(now: number): Promise<SubmissionRecord[]>;
  /**
   * Claims a pending submission until `until`, unless someone holds a claim that is still live at
   * `now`; the submission as claimed, or undefined when it was not free. One statement, so of two
   * workers (loops, processes) racing for it exactly one wins.
   */
  claim(id: number, now: number, until: number): Promise<SubmissionRecord | undefined>;
  /** Records the delivery status reached so far of a claimed submission (it stays pending). */
  progress(id: number, deliveryStatus: Record<string, DeliveryStatus>): Promise<void>;
  /** Cancels a pending submission nobody is sending at `now`; whether it was. */
  cancel(id: number, now: number): Promise<boolean>;
  /** The account's submissions of the email whose Message-ID is `messageId` (without angle brackets). */
  byMessageId(accountId: number, messageId: string): Promise<SubmissionRecord[]>;
  /** Replaces the delivery status, whatever the undo status (a report can come after the send). */
  report(id: number, deliveryStatus: Record<string, DeliveryStatus>): Promise<void>;
  /**
   * Hands a claimed pending submission whole to the queue: records its delivery status, releases
   * the claim and marks it in the queue (it stays pending, cancelable while the queue allows).
   */
  handOver(id: number, deliveryStatus: Record<string, DeliveryStatus>): Promise<void>;
  /**
   * Records delivery status the queue reached for some recipients (merged into the rest by
   * {@link mergedStatus}) and makes a pending submission final (it has been tried: it can no longer
   * be canceled); false if it is gone.
   */
  queueProgress(id: number, statuses: Record<string, DeliveryStatus>): Promise<boolean>;
}

/**
 * A recipient's status once `next` is recorded over `current`: monotonic, so a final outcome ("yes"
 * or "no", from the queue or from a delivery report that arrived first) is never replaced by a
 * "queued" or "unknown" (a relay's acceptance recorded after the report it sent back).
 */
export function mergedStatus(current: DeliveryStatus | undefined, next: DeliveryStatus): DeliveryStatus {
  const final = (s: DeliveryStatus) => s.delivered === "yes" || s.delivered === "no";
  return current && final(current) && !final(next) ? current : next;
}

function toSubmission(row: Row): SubmissionRecord {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    identityId: Number(row.identity_id),
    emailId: Number(row.email_id),
    threadId: Number(row.thread_id),
    envelope: JSON.parse(String(row.envelope)),
    sendAt: Number(row.send_at),
    undoStatus: String(row.undo_status) as SubmissionRecord["undoStatus"],
    deliveryStatus: row.delivery_status === null ? null : JSON.parse(String(row.delivery_status)),
    createdAt: Number(row.created_at),
    claimedUntil: Number(row.claimed_until ?? 0),
    inQueue: Number(row.in_queue ?? 0) === 1,
  };
}

/** SQLite implementation of {@link SubmissionRepository}. */
export function sqliteSubmissions(db: Db): SubmissionRepository {
  return {
    list: (accountId) =>
      Promise.resolve(
        db.all("SELECT * FROM email_submissions WHERE account_id = ? ORDER BY id", accountId).map(
          toSubmission,
        ),
      ),
    get(id) {
      const row = db.get("SELECT * FROM email_submissions WHERE id = ?", id);
      return Promise.resolve(row && toSubmission(row));
    },
    insert(s) {
      return Promise.resolve(
        db.run(
          `INSERT INTO email_submissions (account_id, identity_id, email_id, thread_id, envelope, send_at, undo_status,
             delivery_status, created_at, claimed_until, in_queue) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          s.accountId,
          s.identityId,
          s.emailId,
          s.threadId,
          JSON.stringify(s.envelope),
          s.sendAt,
          s.undoStatus,
          s.deliveryStatus === null ? null : JSON.stringify(s.deliveryStatus),
          s.createdAt,
          s.claimedUntil,
          s.inQueue ? 1 : 0,
        ).id,
      );
    },
    settle(id, undoStatus, deliveryStatus) {
      db.run(
        "UPDATE email_submissions SET undo_status = ?, delivery_status = ?, claimed_until = 0 WHERE id = ?",
        undoStatus,
        deliveryStatus === null ? null : JSON.stringify(deliveryStatus),
        id,
      );
      return Promise.resolve();
    },
    delete: (id) => Promise.resolve(db.run("DELETE FROM email_submissions WHERE id = ?", id).changes > 0),
    due: (now) =>
      Promise.resolve(
        db.all(
          `SELECT * FROM email_submissions
           WHERE undo_status = 'pending' AND in_queue = 0 AND send_at <= ? AND claimed_until < ? ORDER BY send_at`,
          now,
          now,
        )
          .map(toSubmission),
      ),
    claim(id, now, until) {
      const row = db.get(
        `UPDATE email_submissions SET claimed_until = ?
         WHERE id = ? AND undo_status = 'pending' AND in_queue = 0 AND claimed_until < ? RETURNING *`,
        until,
        id,
        now,
      );
      return Promise.resolve(row && toSubmission(row));
    },
    progress(id, deliveryStatus) {
      db.run(
        "UPDATE email_submissions SET delivery_status = ? WHERE id = ? AND undo_status = 'pending'",
        JSON.stringify(deliveryStatus),
        id,
      );
      return Promise.resolve();
    },
    cancel: (id, now) =>
      Promise.resolve(
        db.run(
          `UPDATE email_submissions SET undo_status = 'canceled', claimed_until = 0
           WHERE id = ? AND undo_status = 'pending' AND claimed_until < ?`,
          id,
          now,
        ).changes > 0,
      ),
    byMessageId: (accountId, messageId) =>
      Promise.resolve(
        db.all(
          `SELECT s.* FROM email_submissions s JOIN emails e ON e.id = s.email_id
           WHERE s.account_id = ? AND e.thread_id IN
             (SELECT thread_id FROM thread_refs WHERE account_id = ? AND message_id = ?)
           AND EXISTS (SELECT 1 FROM json_each(e.headers, '$.messageId') WHERE value = ?)
           ORDER BY s.id`,
          accountId,
          accountId,
          messageId,
          messageId,
        ).map(toSubmission),
      ),
    report(id, deliveryStatus) {
      db.run(
        "UPDATE email_submissions SET delivery_status = ? WHERE id = ?",
        JSON.stringify(deliveryStatus),
        id,
      );
      return Promise.resolve();
    },
    handOver(id, deliveryStatus) {
      db.run(
        `UPDATE email_submissions SET delivery_status = ?, claimed_until = 0, in_queue = 1
         WHERE id = ? AND undo_status = 'pending'`,
        JSON.stringify(deliveryStatus),
        id,
      );
      return Promise.resolve();
    },
    queueProgress(id, statuses) {
      return db.transaction(() => {
        const row = db.get<{ delivery_status: string | null }>(
          "SELECT delivery_status FROM email_submissions WHERE id = ?",
          id,
        );
        if (!row) return false;
        const current: Record<string, DeliveryStatus> = row.delivery_status
          ? JSON.parse(row.delivery_status)
          : {};
        const merged = { ...current };
        for (const [recipient, status] of Object.entries(statuses)) {
          merged[recipient] = mergedStatus(current[recipient], status);
        }
        db.run(
          `UPDATE email_submissions SET delivery_status = ?,
             undo_status = CASE undo_status WHEN 'pending' THEN 'final' ELSE undo_status END WHERE id = ?`,
          JSON.stringify(merged),
          id,
        );
        return true;
      });
    },
  };
}
