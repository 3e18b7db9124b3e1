/**
 * What an account stores, kept as it changes rather than summed over all its mail on every read:
 * `account_usage.bytes` is the size of the distinct blobs the account links (its uploads and its
 * emails; a blob both uploaded and filed counts once), as maxDiskQuota and Quota/get count it. The
 * triggers ask only whether the account's first link to a blob came or its last one went, two
 * indexed lookups. A blob whose last link anywhere went is noted in `blob_orphans`, so collecting
 * unused blobs looks at those instead of scanning every blob (whose rows hold their data).
 *
 * An upload counts until it is collected: collection runs every ten minutes and removes uploads
 * whose hour has passed.
 *
 * Migration 046 (several emails of one blob in an account) replaces the two email triggers: each
 * email then counts, and an upload only while no email of the account files its blob.
 */
/** The account's first link to the blob of NEW: it now stores that blob's bytes. */
export const CHARGE = `
  INSERT INTO account_usage (account_id, bytes) VALUES (NEW.account_id, (SELECT size FROM blobs WHERE id = NEW.blob_id))
  ON CONFLICT (account_id) DO UPDATE SET bytes = bytes + excluded.bytes;`;

/** The account's last link to the blob of OLD went: its bytes no longer count; maybe nothing links it now. */
export const RELEASE = `
  UPDATE account_usage SET bytes = bytes - (SELECT size FROM blobs WHERE id = OLD.blob_id)
  WHERE account_id = OLD.account_id;
  INSERT OR IGNORE INTO blob_orphans (blob_id) SELECT OLD.blob_id
  WHERE NOT EXISTS (SELECT 1 FROM uploads WHERE blob_id = OLD.blob_id)
    AND NOT EXISTS (SELECT 1 FROM emails WHERE blob_id = OLD.blob_id);`;

export const sql = `
CREATE TABLE account_usage (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  bytes INTEGER NOT NULL
);
INSERT INTO account_usage (account_id, bytes)
  SELECT l.account_id, sum(b.size) FROM
    (SELECT account_id, blob_id FROM uploads UNION SELECT account_id, blob_id FROM emails) l
    JOIN blobs b ON b.id = l.blob_id
  GROUP BY l.account_id;

CREATE TABLE blob_orphans (blob_id INTEGER PRIMARY KEY);
INSERT INTO blob_orphans (blob_id)
  SELECT id FROM blobs b
  WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.blob_id = b.id)
    AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.blob_id = b.id);

CREATE TRIGGER uploads_linked AFTER INSERT ON uploads
WHEN NOT EXISTS (SELECT 1 FROM uploads u WHERE u.account_id = NEW.account_id AND u.blob_id = NEW.blob_id
                   AND u.uploader_id <> NEW.uploader_id)
  AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.account_id = NEW.account_id AND e.blob_id = NEW.blob_id)
BEGIN ${CHARGE}
END;
CREATE TRIGGER uploads_unlinked AFTER DELETE ON uploads
WHEN NOT EXISTS (SELECT 1 FROM uploads u WHERE u.account_id = OLD.account_id AND u.blob_id = OLD.blob_id)
  AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.account_id = OLD.account_id AND e.blob_id = OLD.blob_id)
BEGIN ${RELEASE}
END;

-- An account has one email per blob (emails_account_blob), so only its uploads can already link it.
CREATE TRIGGER emails_linked AFTER INSERT ON emails
WHEN NOT EXISTS (SELECT 1 FROM uploads u WHERE u.account_id = NEW.account_id AND u.blob_id = NEW.blob_id)
BEGIN ${CHARGE}
END;
CREATE TRIGGER emails_unlinked AFTER DELETE ON emails
WHEN NOT EXISTS (SELECT 1 FROM uploads u WHERE u.account_id = OLD.account_id AND u.blob_id = OLD.blob_id)
BEGIN ${RELEASE}
END;
`;
