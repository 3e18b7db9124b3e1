/**
 * A domain's catch-all: the address (of an account or group) that receives mail sent to unknown
 * addresses of the domain (src/mail/inbound.ts), or NULL for none. Kept as the address, not an
 * account id, so a snapshot can create domains before the accounts they name; an address that no
 * longer resolves is no catch-all (the recipient is refused as unknown).
 */
export const sql = `
ALTER TABLE domains ADD COLUMN catch_all TEXT;
`;
