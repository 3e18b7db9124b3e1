/** Blob content stored once per hash, and the uploads that link it to accounts. */
import type { Db } from "./db.ts";

/** A blob as an account sees it. */
export interface StoredBlob {
  id: number;
  hash: Uint8Array;
  size: number;
}

/** An upload to record. */
export interface NewUpload {
  accountId: number;
  uploaderId: number;
  hash: Uint8Array;
  data: Uint8Array;
  type: string;
  now: number;
  expiresAt: number;
}

/** Persistence of blobs and uploads. */
export interface BlobRepository {
  /**
   * Stores the content unless a blob of that hash exists, and links it to the account as an upload
   * until `expiresAt` (a repeated upload extends the link and takes the new type).
   */
  putUpload(upload: NewUpload): Promise<StoredBlob>;
  /**
   * {@link putUpload} of each, in one transaction (one commit); in order, each one's blob, or the
   * error that refused it (the others are stored all the same).
   */
  putUploads(uploads: readonly NewUpload[]): Promise<(StoredBlob | Error)[]>;
  /**
   * The blob's content, if the account links it for this viewer: an upload not yet expired, made by
   * the viewer or into the viewer's own account.
   */
  read(
    link: { accountId: number; viewerId: number },
    hash: Uint8Array,
    now: number,
  ): Promise<Uint8Array<ArrayBuffer> | undefined>;
  /**
   * A message blob of the account's emails: its content and the mailboxes its emails are in (who may
   * read it follows from those).
   */
  readMessage(
    accountId: number,
    hash: Uint8Array,
  ): Promise<{ data: Uint8Array<ArrayBuffer>; mailboxIds: number[] } | undefined>;
  /** {@link read}, and the blob's row with the content (an import needs both: one lookup, not two). */
  readUpload(
    link: { accountId: number; viewerId: number },
    hash: Uint8Array,
    now: number,
  ): Promise<{ blob: StoredBlob; data: Uint8Array<ArrayBuffer> } | undefined>;
  /** Stores content (once per hash) without linking it; returns the blob. Call in the linking transaction. */
  put(hash: Uint8Array, data: Uint8Array, now: number): Promise<StoredBlob>;
  /** The blob of that hash without its content, if stored. */
  idOf(hash: Uint8Array): Promise<StoredBlob | undefined>;
  /** Whether the account already links a blob of this hash (an upload of it then costs no more quota). */
  isLinked(accountId: number, hash: Uint8Array): Promise<boolean>;
  /**
   * Bytes a new email of the blob adds to the account's usage: none when the account's upload of it
   * pays and no email of it is there yet, else the blob's size (each email counts).
   */
  emailCost(accountId: number, blobId: number): Promise<number>;
  /**
   * Bytes the account stores: each of its emails' messages, and the blobs it uploaded (until collected)
   * that none of its emails files; what its maxDiskQuota counts. Kept by the database as links come
   * and go (migrations/046_email_copies.ts), so reading it costs nothing.
   */
  usedBytes(accountId: number): Promise<number>;
  /** Drops expired uploads, then blobs no upload or email links; returns how many of each. */
  collect(now: number): Promise<{ uploads: number; blobs: number }>;
}

/** SQLite implementation of {@link BlobRepository}. */
export function sqliteBlobs(db: Db): BlobRepository {
  const put = (hash: Uint8Array, data: Uint8Array, now: number): StoredBlob => {
    // New content answers its id at once; stored content (no row returned) is looked up.
    const blob = db.get<{ id: number; size: number }>(
      `INSERT INTO blobs (hash, size, data, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING
       RETURNING id, size`,
      hash,
      data.length,
      data,
      now,
    ) ?? db.get<{ id: number; size: number }>("SELECT id, size FROM blobs WHERE hash = ?", hash)!;
    return { id: Number(blob.id), hash, size: Number(blob.size) };
  };
  /** A live upload of `hash` the viewer may read in the account (its own, or one to the account). */
  const uploadRow = (link: { accountId: number; viewerId: number }, hash: Uint8Array, now: number) =>
    db.get<{ id: number; size: number; data: Uint8Array<ArrayBuffer> }>(
      `SELECT b.id, b.size, b.data FROM blobs b JOIN uploads u ON u.blob_id = b.id
       WHERE b.hash = ? AND u.account_id = ? AND u.expires_at > ? AND (u.uploader_id = ? OR u.account_id = ?)
       LIMIT 1`,
      hash,
      link.accountId,
      now,
      link.viewerId,
      link.viewerId,
    );
  /** The upload's blob (stored once per hash) and its link to the account. */
  const link = (u: NewUpload): StoredBlob => {
    const blob = put(u.hash, u.data, u.now);
    db.run(
      `INSERT INTO uploads (account_id, blob_id, uploader_id, type, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, blob_id, uploader_id) DO UPDATE
       SET type = excluded.type, expires_at = max(expires_at, excluded.expires_at)`,
      u.accountId,
      blob.id,
      u.uploaderId,
      u.type,
      u.now,
      u.expiresAt,
    );
    return blob;
  };
  return {
    put(hash, data, now) {
      return Promise.resolve(put(hash, data, now));
    },
    idOf(hash) {
      const row = db.get<{ id: number; size: number }>("SELECT id, size FROM blobs WHERE hash = ?", hash);
      return Promise.resolve(row && { id: Number(row.id), hash, size: Number(row.size) });
    },
    readMessage(accountId, hash) {
      const row = db.get<{ data: Uint8Array<ArrayBuffer>; mailboxes: string | null }>(
        `SELECT b.data, (SELECT group_concat(m.mailbox_id) FROM emails e JOIN email_mailboxes m ON m.email_id = e.id
                          WHERE e.account_id = ? AND e.blob_id = b.id) AS mailboxes
         FROM blobs b WHERE b.hash = ? AND EXISTS (SELECT 1 FROM emails e WHERE e.account_id = ? AND e.blob_id = b.id)`,
        accountId,
        hash,
        accountId,
      );
      return Promise.resolve(
        row && { data: row.data, mailboxIds: row.mailboxes ? row.mailboxes.split(",").map(Number) : [] },
      );
    },
    putUpload(u) {
      return db.transaction(() => link(u));
    },
    putUploads(uploads) {
      return db.transaction(() =>
        uploads.map((u) => {
          // Each in a savepoint of its own: one that fails (its account just deleted, say) leaves
          // nothing behind and the others commit.
          db.raw.exec("SAVEPOINT upload");
          try {
            const blob = link(u);
            db.raw.exec("RELEASE upload");
            return blob;
          } catch (error) {
            db.raw.exec("ROLLBACK TO upload; RELEASE upload");
            return error instanceof Error ? error : new Error(String(error));
          }
        })
      );
    },
    read(access, hash, now) {
      return Promise.resolve(uploadRow(access, hash, now)?.data);
    },
    readUpload(access, hash, now) {
      const row = uploadRow(access, hash, now);
      return Promise.resolve(
        row && { blob: { id: Number(row.id), hash, size: Number(row.size) }, data: row.data },
      );
    },
    isLinked(accountId, hash) {
      const row = db.get(
        `SELECT 1 FROM blobs b WHERE b.hash = ?
           AND (EXISTS (SELECT 1 FROM uploads u WHERE u.account_id = ? AND u.blob_id = b.id)
             OR EXISTS (SELECT 1 FROM emails e WHERE e.account_id = ? AND e.blob_id = b.id))`,
        hash,
        accountId,
        accountId,
      );
      return Promise.resolve(row !== undefined);
    },
    emailCost(accountId, blobId) {
      const row = db.get<{ cost: number }>(
        `SELECT CASE WHEN EXISTS (SELECT 1 FROM uploads u WHERE u.account_id = ? AND u.blob_id = b.id)
                       AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.account_id = ? AND e.blob_id = b.id)
                  THEN 0 ELSE b.size END AS cost
         FROM blobs b WHERE b.id = ?`,
        accountId,
        accountId,
        blobId,
      );
      return Promise.resolve(Number(row?.cost ?? 0));
    },
    usedBytes(accountId) {
      const row = db.get<{ bytes: number }>(
        "SELECT bytes FROM account_usage WHERE account_id = ?",
        accountId,
      );
      return Promise.resolve(Number(row?.bytes ?? 0));
    },
    collect(now) {
      return db.transaction(() => {
        // The triggers note each blob whose last link goes here (or went with an email) in blob_orphans.
        const uploads = db.run("DELETE FROM uploads WHERE expires_at <= ?", now).changes;
        const blobs = db.run(
          `DELETE FROM blobs WHERE id IN (SELECT blob_id FROM blob_orphans)
             AND NOT EXISTS (SELECT 1 FROM uploads WHERE uploads.blob_id = blobs.id)
             AND NOT EXISTS (SELECT 1 FROM emails WHERE emails.blob_id = blobs.id)`,
        ).changes;
        db.run("DELETE FROM blob_orphans");
        return { uploads, blobs };
      });
    },
  };
}
