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
   * The blob's content, if the account links it for this viewer: an upload not yet expired, made by
   * the viewer or into the viewer's own account.
   */
  read(
    link: { accountId: number; viewerId: number },
    hash: Uint8Array,
    now: number,
  ): Promise<Uint8Array<ArrayBuffer> | undefined>;
  /** Whether the account already links a blob of this hash (it then costs no more quota). */
  isLinked(accountId: number, hash: Uint8Array, now: number): Promise<boolean>;
  /** Bytes of the distinct blobs the account links: what counts against its maxDiskQuota. */
  usedBytes(accountId: number, now: number): Promise<number>;
  /** Drops expired uploads, then blobs nothing links any more; returns how many of each. */
  collect(now: number): Promise<{ uploads: number; blobs: number }>;
}

/** SQLite implementation of {@link BlobRepository}. */
export function sqliteBlobs(db: Db): BlobRepository {
  return {
    putUpload(u) {
      return db.transaction(() => {
        db.run(
          `INSERT INTO blobs (hash, size, data, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (hash) DO NOTHING`,
          u.hash,
          u.data.length,
          u.data,
          u.now,
        );
        const blob = db.get<{ id: number; size: number }>(
          "SELECT id, size FROM blobs WHERE hash = ?",
          u.hash,
        )!;
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
        return { id: Number(blob.id), hash: u.hash, size: Number(blob.size) };
      });
    },
    read({ accountId, viewerId }, hash, now) {
      const row = db.get<{ data: Uint8Array<ArrayBuffer> }>(
        `SELECT b.data FROM blobs b JOIN uploads u ON u.blob_id = b.id
         WHERE b.hash = ? AND u.account_id = ? AND u.expires_at > ? AND (u.uploader_id = ? OR u.account_id = ?)
         LIMIT 1`,
        hash,
        accountId,
        now,
        viewerId,
        viewerId,
      );
      return Promise.resolve(row?.data);
    },
    isLinked(accountId, hash, now) {
      const row = db.get(
        `SELECT 1 FROM blobs b JOIN uploads u ON u.blob_id = b.id
         WHERE b.hash = ? AND u.account_id = ? AND u.expires_at > ? LIMIT 1`,
        hash,
        accountId,
        now,
      );
      return Promise.resolve(row !== undefined);
    },
    usedBytes(accountId, now) {
      const row = db.get<{ n: number | null }>(
        `SELECT sum(size) AS n FROM blobs WHERE id IN
           (SELECT blob_id FROM uploads WHERE account_id = ? AND expires_at > ?)`,
        accountId,
        now,
      );
      return Promise.resolve(Number(row?.n ?? 0));
    },
    collect(now) {
      return db.transaction(() => {
        const uploads = db.run("DELETE FROM uploads WHERE expires_at <= ?", now).changes;
        const blobs = db.run(
          "DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM uploads WHERE uploads.blob_id = blobs.id)",
        ).changes;
        return { uploads, blobs };
      });
    },
  };
}
