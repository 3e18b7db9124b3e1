/**
 * A queued message may be stored unsigned and signed by the delivery worker before its first
 * attempt (queue_messages.sign_pending = 1), so queueing a submission costs no DKIM signature. The
 * worker stores the signed bytes in place of the unsigned ones before it sends them, and clears the
 * mark in the same statement: every attempt after that (a retry, another domain of the same
 * message, a worker taking over a lost claim) sends the same signed bytes.
 */
export const sql = `
ALTER TABLE queue_messages ADD COLUMN sign_pending INTEGER NOT NULL DEFAULT 0 CHECK (sign_pending IN (0, 1));
`;
