import type { MailboxGrant, MailboxRecord, StoredMailboxGrant } from "../model/mail.ts";
import { CommitMemo } from "./commit_memo.ts";
import type { Db, Row } from "./db.ts";

type NewMailbox = Omit<MailboxRecord, "id" | "createdAt" | "updatedAt">;

/** Persistence of mailboxes, subscriptions and mailbox grants. */
export interface MailboxRepository {
  list(accountId: number): Promise<MailboxRecord[]>;
  /** The mailboxes of an account that have one of `roles` (one indexed read; for delivery). */
  withRoles(accountId: number, roles: readonly string[]): Promise<MailboxRecord[]>;
  get(id: number): Promise<MailboxRecord | undefined>;
  insert(mailbox: NewMailbox): Promise<number>;
  update(id: number, mailbox: Pick<MailboxRecord, "parentId" | "name" | "role" | "sortOrder">): Promise<void>;
  delete(id: number): Promise<boolean>;
  /** Ids of the mailboxes of an account that `viewerId` subscribed to. */
  subscribed(viewerId: number, accountId: number): Promise<Set<number>>;
  setSubscribed(viewerId: number, mailboxId: number, subscribed: boolean): Promise<void>;
  /** Grants on the mailboxes of an account. */
  grantsOf(accountId: number): Promise<StoredMailboxGrant[]>;
  /** Grants held by any of `granteeIds` (an account and its groups), on any account's mailboxes. */
  grantsHeld(granteeIds: number[]): Promise<StoredMailboxGrant[]>;
  /** One grant by its id. */
  grant(id: number): Promise<StoredMailboxGrant | undefined>;
  /** Every mailbox grant of every account. */
  allGrants(): Promise<StoredMailboxGrant[]>;
  /** Sets (rights > 0) or removes (0) the grant of `granteeId` on a mailbox. */
  setGrant(grant: MailboxGrant): Promise<void>;
}

function toMailbox(r: Row): MailboxRecord {
  return {
    id: Number(r.id),
    accountId: Number(r.account_id),
    parentId: r.parent_id === null ? null : Number(r.parent_id),
    name: String(r.name),
    role: r.role === null ? null : String(r.role),
    sortOrder: Number(r.sort_order),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toGrant(r: Row): StoredMailboxGrant {
  return {
    id: Number(r.id),
    mailboxId: Number(r.mailbox_id),
    ownerId: Number(r.owner_id),
    granteeId: Number(r.grantee_id),
    rights: Number(r.rights),
  };
}

/** SQLite implementation of {@link MailboxRepository}. */
export function sqliteMailboxes(
  db: Db,
  changeSignal: () => number | undefined = () => undefined,
): MailboxRepository {
  const done = <T>(value: T) => Promise.resolve(value);
  // An account's mailboxes, read again only after a commit (commit_memo.ts): an IMAP SELECT names its
  // mailbox from them. Each caller gets its own copies.
  const lists = new CommitMemo<number, readonly MailboxRecord[]>(db, changeSignal);
  const roleMemo = new CommitMemo<string, MailboxRecord | undefined>(db, changeSignal);
  return {
    list: (accountId) =>
      done(
        lists.get(
          accountId,
          () => db.all("SELECT * FROM mailboxes WHERE account_id = ? ORDER BY id", accountId).map(toMailbox),
        ).map((m) => ({ ...m })),
      ),
    withRoles(accountId, roles) {
      // Remembered until the next commit too: the MX asks for the Inbox of every message it stores.
      const rows = roles.flatMap((role) => {
        const found = roleMemo.get(`${accountId} ${role}`, () => {
          const row = db.get("SELECT * FROM mailboxes WHERE account_id = ? AND role = ?", accountId, role);
          return row && toMailbox(row);
        });
        return found ? [{ ...found }] : [];
      });
      return done(rows);
    },
    get(id) {
      const row = db.get("SELECT * FROM mailboxes WHERE id = ?", id);
      return done(row && toMailbox(row));
    },
    insert(m) {
      const now = Date.now();
      return done(
        db.run(
          `INSERT INTO mailboxes (account_id, parent_id, name, role, sort_order, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          m.accountId,
          m.parentId,
          m.name,
          m.role,
          m.sortOrder,
          now,
          now,
        ).id,
      );
    },
    update(id, m) {
      db.run(
        "UPDATE mailboxes SET parent_id = ?, name = ?, role = ?, sort_order = ?, updated_at = ? WHERE id = ?",
        m.parentId,
        m.name,
        m.role,
        m.sortOrder,
        Date.now(),
        id,
      );
      return done(undefined);
    },
    delete: (id) => done(db.run("DELETE FROM mailboxes WHERE id = ?", id).changes > 0),
    subscribed(viewerId, accountId) {
      const rows = db.all<{ mailbox_id: number }>(
        `SELECT s.mailbox_id FROM mailbox_subscriptions s JOIN mailboxes m ON m.id = s.mailbox_id
         WHERE s.account_id = ? AND m.account_id = ?`,
        viewerId,
        accountId,
      );
      return done(new Set(rows.map((r) => Number(r.mailbox_id))));
    },
    setSubscribed(viewerId, mailboxId, subscribed) {
      if (subscribed) {
        db.run(
          "INSERT OR IGNORE INTO mailbox_subscriptions (account_id, mailbox_id) VALUES (?, ?)",
          viewerId,
          mailboxId,
        );
      } else {
        db.run(
          "DELETE FROM mailbox_subscriptions WHERE account_id = ? AND mailbox_id = ?",
          viewerId,
          mailboxId,
        );
      }
      return done(undefined);
    },
    grantsOf(accountId) {
      return done(
        db.all(
          "SELECT * FROM acl WHERE owner_id = ? AND object_type = 'Mailbox' AND mailbox_id IS NOT NULL ORDER BY id",
          accountId,
        ).map(toGrant),
      );
    },
    grantsHeld(granteeIds) {
      if (granteeIds.length === 0) return done([]);
      const marks = granteeIds.map(() => "?").join(", ");
      return done(
        db.all(
          `SELECT * FROM acl WHERE grantee_id IN (${marks}) AND object_type = 'Mailbox'
           AND mailbox_id IS NOT NULL ORDER BY id`,
          ...granteeIds,
        ).map(toGrant),
      );
    },
    grant(id) {
      const row = db.get(
        "SELECT * FROM acl WHERE id = ? AND object_type = 'Mailbox' AND mailbox_id IS NOT NULL",
        id,
      );
      return done(row && toGrant(row));
    },
    allGrants: () =>
      done(
        db.all("SELECT * FROM acl WHERE object_type = 'Mailbox' AND mailbox_id IS NOT NULL ORDER BY id")
          .map(toGrant),
      ),
    setGrant(g) {
      if (g.rights === 0) {
        db.run(
          "DELETE FROM acl WHERE grantee_id = ? AND object_type = 'Mailbox' AND mailbox_id = ?",
          g.granteeId,
          g.mailboxId,
        );
      } else {
        db.run(
          `INSERT INTO acl (grantee_id, owner_id, object_type, object_id, rights, mailbox_id)
           VALUES (?, ?, 'Mailbox', ?, ?, ?)
           ON CONFLICT (grantee_id, owner_id, object_type, object_id) DO UPDATE SET rights = excluded.rights`,
          g.granteeId,
          g.ownerId,
          g.mailboxId,
          g.rights,
          g.mailboxId,
        );
      }
      return done(undefined);
    },
  };
}
