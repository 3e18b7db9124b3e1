/**
 * Until now a plain user could register OAuth clients through management, skip the consent page
 * (`require_consent = 0`) and carry the admin scope, so one click by a signed-in administrator gave
 * that user an admin token. From now on only administrators register clients, and a client's scopes
 * never exceed what its owner may grant. Clients stored before that rule are brought under it rather
 * than deleted (their owners still read and delete them): every client not registered by an
 * administrator — registered dynamically, or owned by an account that is not an administrator —
 * asks for consent again and loses the admin scope; the token families, codes and sign-ins in
 * progress it holds with the admin scope are revoked, since nobody approved them.
 */
const UNTRUSTED = `(c.dynamic = 1 OR (c.owner_id IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM accounts a, json_each(a.roles) r WHERE a.id = c.owner_id AND r.value = 'admin')))`;
const hasAdminScope = (column: string) =>
  `EXISTS (SELECT 1 FROM json_each(${column}) WHERE value = 'urn:postern:admin')`;
const CHANGED = `${UNTRUSTED} AND (c.require_consent = 0 OR ${hasAdminScope("c.scopes")})`;

export const sql = `
DELETE FROM oauth_grants WHERE ${hasAdminScope("oauth_grants.scopes")}
  AND client_id IN (SELECT c.id FROM oauth_clients c WHERE ${UNTRUSTED});
DELETE FROM oauth_codes WHERE ${hasAdminScope("oauth_codes.scopes")}
  AND client_id IN (SELECT c.id FROM oauth_clients c WHERE ${UNTRUSTED});
DELETE FROM oauth_device_codes WHERE ${hasAdminScope("oauth_device_codes.scopes")}
  AND client_id IN (SELECT c.id FROM oauth_clients c WHERE ${UNTRUSTED});
DELETE FROM oauth_flows WHERE client_id IN (SELECT c.id FROM oauth_clients c WHERE ${CHANGED});
INSERT INTO changes (account_id, owner_id, type, object_id, kind, created_at)
  SELECT NULL, c.owner_id, 'OAuthClient', c.id, 2, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
  FROM oauth_clients c WHERE ${CHANGED};
UPDATE oauth_clients AS c SET
  require_consent = 1,
  scopes = (SELECT json_group_array(value) FROM json_each(c.scopes) WHERE value <> 'urn:postern:admin'),
  updated_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
  WHERE ${CHANGED};
`;
