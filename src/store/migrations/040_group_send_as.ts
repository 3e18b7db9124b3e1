/**
 * The right of a group's member to send as the group (its addresses as MAIL FROM, From and
 * identities), granted per member by an administrator. It lives on the membership row, so leaving
 * the group (or the group's deletion, by cascade) takes it away with the membership.
 */
export const sql = `
ALTER TABLE group_members ADD COLUMN send_as INTEGER NOT NULL DEFAULT 0 CHECK (send_as IN (0, 1));
`;
