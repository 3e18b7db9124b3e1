/**
 * The IMAP size of a stored message in SQL (migrations/045_imap_size.ts): the blob's size plus one
 * octet per bare LF (an LF not after a CR), or NULL when it has none. Bare LFs are the LFs less the
 * CRLFs, each counted by what removing them takes off the blob's octets; a CR not before an LF is
 * never changed by the renderer, so it does not count. `b` is the blobs row.
 */
export const IMAP_SIZE_OF_BLOB = `NULLIF(
  b.size
    + (b.size - length(CAST(replace(b.data, char(10), '') AS BLOB)))
    - (b.size - length(CAST(replace(b.data, char(13, 10), '') AS BLOB))) / 2,
  b.size)`;
