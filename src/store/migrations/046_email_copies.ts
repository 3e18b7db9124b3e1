/**
 * An account may hold several emails of the same message blob: an IMAP APPEND of octets the account
 * already holds makes a new message with a UID of its own, as Dovecot and Stalwart do, instead of
 * answering the existing message's UID (a client that then expunged "its" copy deleted the original).
 * So `emails_account_blob` is no longer unique.
 *
 * Storage is counted per email, as Dovecot's quota counts every copy: `account_usage.bytes` is the
 * size of each email's message plus the blobs the account has uploaded and no email of it files (a
 * message filed from an upload counts once, as before). The triggers of migration 021 on `uploads`
 * already say that; the two on `emails` are replaced:
 * - an email charges its blob unless the account's upload of it was paying and it is the first email
 *   of that blob (the charge moves from the upload to the email);
 * - an email that goes releases its blob unless it was the last email of it and an upload of the
 *   account is still there (the upload pays again until it is collected).
 * Databases made before hold at most one email per blob in an account, so their counts stay right.
 */
import { CHARGE, RELEASE } from "./021_account_usage.ts";

export const sql = `
DROP INDEX emails_account_blob;
CREATE INDEX emails_account_blob ON emails(account_id, blob_id);

DROP TRIGGER emails_linked;
DROP TRIGGER emails_unlinked;
CREATE TRIGGER emails_linked AFTER INSERT ON emails
WHEN NOT EXISTS (SELECT 1 FROM uploads u WHERE u.account_id = NEW.account_id AND u.blob_id = NEW.blob_id)
  OR EXISTS (SELECT 1 FROM emails e WHERE e.account_id = NEW.account_id AND e.blob_id = NEW.blob_id
               AND e.id <> NEW.id)
BEGIN ${CHARGE}
END;
CREATE TRIGGER emails_unlinked AFTER DELETE ON emails
WHEN NOT EXISTS (SELECT 1 FROM uploads u WHERE u.account_id = OLD.account_id AND u.blob_id = OLD.blob_id)
  OR EXISTS (SELECT 1 FROM emails e WHERE e.account_id = OLD.account_id AND e.blob_id = OLD.blob_id)
BEGIN ${RELEASE}
END;
`;
