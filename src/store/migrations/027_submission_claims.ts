/**
 * A submission being sent is claimed: `claimed_until` is when the claim of the worker sending it
 * runs out (0: nobody holds it). Only an unclaimed pending submission is picked by the due loop or
 * canceled, so two loops, two processes or a loop and an EmailSubmission/set never send it twice;
 * a worker that dies mid-send leaves a claim that expires, and the submission is sent again.
 */
export const sql = `
ALTER TABLE email_submissions ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
`;
