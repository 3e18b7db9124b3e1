/**
 * Who may see a directory-wide change: the account an object belongs to (an account itself, the
 * owner of a key). Not a foreign key: the row must outlive a deleted owner to report the deletion.
 */
export const sql = `
ALTER TABLE changes ADD COLUMN owner_id INTEGER;
CREATE INDEX changes_owner ON changes(type, owner_id, id);
`;
