/**
 * IMAP's RFC822.SIZE is the size of the message as FETCH BODY[] serves it: with every bare LF made
 * CRLF (src/imap/render/message_tree.ts), as Dovecot serves Maildir messages. A message stored with
 * bare LFs (an Email/import of an mbox-style file) is that many octets larger over IMAP than its JMAP
 * size, so emails.imap_size holds the IMAP size where it differs (NULL = the same as size). Messages
 * already stored are measured here, from their blobs; new ones when they are inserted (emails.ts).
 */
import { IMAP_SIZE_OF_BLOB } from "../imap_size.ts";

export const sql = `
ALTER TABLE emails ADD COLUMN imap_size INTEGER;
UPDATE emails SET imap_size = (SELECT ${IMAP_SIZE_OF_BLOB} FROM blobs b WHERE b.id = emails.blob_id);
`;
