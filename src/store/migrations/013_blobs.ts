/**
 * Blobs (RFC 8620 §6): content stored once per BLAKE3 hash, whoever uploads it, and each account's
 * link to it. An upload links a blob to its account, and to who uploaded it (the owner or someone it
 * shares with), until it expires (at least an hour); a blob no longer linked by anything is collected. Stored in the database itself: mail-sized blobs read and
 * write faster there than as files, and a blob commits with the rows that name it.
 */
export const sql = `
CREATE TABLE blobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash BLOB NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  data BLOB NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE uploads (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  blob_id INTEGER NOT NULL REFERENCES blobs(id),
  uploader_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, blob_id, uploader_id)
) WITHOUT ROWID;
-- Uploads live an hour, so the table stays small: only the blob lookup of every read needs an index.
CREATE INDEX uploads_blob ON uploads(blob_id);
`;
