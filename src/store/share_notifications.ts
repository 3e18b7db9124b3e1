import type { Db, Row } from "./db.ts";

/** Who changed the rights, as they were when the notification was made (RFC 9670 Entity). */
export interface ShareNotificationAuthor {
  /** Their account (principal) id; null when the change had no author account. */
  id: number | null;
  name: string;
  email: string | null;
}

/** A stored ShareNotification (RFC 9670); rights are bitmasks of the object type's rights. */
export interface ShareNotificationRecord {
  id: number;
  /** The account whose rights changed, which the notification belongs to. */
  accountId: number;
  createdAt: number;
  changedBy: ShareNotificationAuthor;
  /** A JMAP data type name, e.g. "Mailbox". */
  objectType: string;
  objectAccountId: number;
  objectId: number;
  oldRights: number;
  newRights: number;
  /** The object's name when the notification was made. */
  name: string;
}

/** Persistence of share notifications. */
export interface ShareNotificationRepository {
  insert(notification: Omit<ShareNotificationRecord, "id">): Promise<number>;
  /** The notifications of an account, oldest first. */
  list(accountId: number): Promise<ShareNotificationRecord[]>;
  /** Deletes one notification of an account; false when the account has none with that id. */
  delete(accountId: number, id: number): Promise<boolean>;
}

function toRecord(r: Row): ShareNotificationRecord {
  return {
    id: Number(r.id),
    accountId: Number(r.account_id),
    createdAt: Number(r.created_at),
    changedBy: {
      id: r.changed_by_id === null ? null : Number(r.changed_by_id),
      name: String(r.changed_by_name),
      email: r.changed_by_email === null ? null : String(r.changed_by_email),
    },
    objectType: String(r.object_type),
    objectAccountId: Number(r.object_account_id),
    objectId: Number(r.object_id),
    oldRights: Number(r.old_rights),
    newRights: Number(r.new_rights),
    name: String(r.name),
  };
}

/** SQLite implementation of {@link ShareNotificationRepository}. */
export function sqliteShareNotifications(db: Db): ShareNotificationRepository {
  return {
    insert(n) {
      const { id } = db.run(
        `INSERT INTO share_notifications (account_id, created_at, changed_by_id, changed_by_name,
           changed_by_email, object_type, object_account_id, object_id, old_rights, new_rights, name)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        n.accountId,
        n.createdAt,
        n.changedBy.id,
        n.changedBy.name,
        n.changedBy.email,
        n.objectType,
        n.objectAccountId,
        n.objectId,
        n.oldRights,
        n.newRights,
        n.name,
      );
      return Promise.resolve(id);
    },
    list(accountId) {
      return Promise.resolve(
        db.all("SELECT * FROM share_notifications WHERE account_id = ? ORDER BY created_at, id", accountId)
          .map(toRecord),
      );
    },
    delete(accountId, id) {
      return Promise.resolve(
        db.run("DELETE FROM share_notifications WHERE account_id = ? AND id = ?", accountId, id).changes > 0,
      );
    },
  };
}
