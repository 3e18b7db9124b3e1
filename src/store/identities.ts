/** Persistence of identities. */
import type { Db, Row } from "./db.ts";

/** An identity as stored; replyTo and bcc are lists of {name, email} or null. */
export interface IdentityRecord {
  id: number;
  accountId: number;
  name: string;
  email: string;
  replyTo: { name: string | null; email: string }[] | null;
  bcc: { name: string | null; email: string }[] | null;
  textSignature: string;
  htmlSignature: string;
  mayDelete: boolean;
}

/** Persistence of identities. */
export interface IdentityRepository {
  list(accountId: number): Promise<IdentityRecord[]>;
  insert(identity: Omit<IdentityRecord, "id">, now: number): Promise<number>;
  update(identity: IdentityRecord): Promise<void>;
  delete(id: number): Promise<boolean>;
}

const json = (value: unknown) => value === null ? null : JSON.stringify(value);

function toIdentity(row: Row): IdentityRecord {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    name: String(row.name),
    email: String(row.email),
    replyTo: row.reply_to === null ? null : JSON.parse(String(row.reply_to)),
    bcc: row.bcc === null ? null : JSON.parse(String(row.bcc)),
    textSignature: String(row.text_signature),
    htmlSignature: String(row.html_signature),
    mayDelete: Number(row.may_delete) === 1,
  };
}

/** SQLite implementation of {@link IdentityRepository}. */
export function sqliteIdentities(db: Db): IdentityRepository {
  return {
    list: (accountId) =>
      Promise.resolve(
        db.all("SELECT * FROM identities WHERE account_id = ? ORDER BY id", accountId).map(toIdentity),
      ),
    insert(i, now) {
      return Promise.resolve(
        db.run(
          `INSERT INTO identities (account_id, name, email, reply_to, bcc, text_signature, html_signature, may_delete,
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          i.accountId,
          i.name,
          i.email,
          json(i.replyTo),
          json(i.bcc),
          i.textSignature,
          i.htmlSignature,
          i.mayDelete ? 1 : 0,
          now,
        ).id,
      );
    },
    update(i) {
      db.run(
        `UPDATE identities SET name = ?, reply_to = ?, bcc = ?, text_signature = ?, html_signature = ? WHERE id = ?`,
        i.name,
        json(i.replyTo),
        json(i.bcc),
        i.textSignature,
        i.htmlSignature,
        i.id,
      );
      return Promise.resolve();
    },
    delete: (id) => Promise.resolve(db.run("DELETE FROM identities WHERE id = ?", id).changes > 0),
  };
}
