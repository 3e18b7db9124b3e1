/**
 * Failed logins per minute, for the admin dashboard's "in the last hour" (every process of the
 * database counts into the same rows). One row per minute with failures, pruned after two days, so
 * the table stays tiny however many attempts arrive.
 */
export const sql = `
CREATE TABLE login_failures (
  minute INTEGER PRIMARY KEY,
  count INTEGER NOT NULL
);
`;
