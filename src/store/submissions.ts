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
}

/** Persistence of submissions. */
export interface SubmissionRepository {
  list(accountId: number): Promise<SubmissionRecord[]>;
  get(id: number): Promise<SubmissionRecord | undefined>;
  insert(submission: Omit<SubmissionRecord, "id">): Promise<number>;
  /** Sets the undo status and the delivery status. */
  settle(
    id: number,
    undoStatus: SubmissionRecord["undoStatus"],
    deliveryStatus: SubmissionRecord["deliveryStatus"],
  ): Promise<void>;
  delete(id: number): Promise<boolean>;
  /** Pending submissions whose time has come. */
  due(now: number): Promise<SubmissionRecord[]>;
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
             delivery_status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          s.accountId,
          s.identityId,
          s.emailId,
          s.threadId,
          JSON.stringify(s.envelope),
          s.sendAt,
          s.undoStatus,
          s.deliveryStatus === null ? null : JSON.stringify(s.deliveryStatus),
          s.createdAt,
        ).id,
      );
    },
    settle(id, undoStatus, deliveryStatus) {
      db.run(
        "UPDATE email_submissions SET undo_status = ?, delivery_status = ? WHERE id = ?",
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
          "SELECT * FROM email_submissions WHERE undo_status = 'pending' AND send_at <= ? ORDER BY send_at",
          now,
        )
          .map(toSubmission),
      ),
  };
}
