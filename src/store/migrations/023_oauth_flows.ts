/**
 * OAuth hardening (issue 18, items 13 and 14):
 * - `oauth_signing_keys.activates_at`: a new signing key is published in the JWKS before it signs
 *   (NULL for the keys made before: they signed from their creation).
 * - `oauth_clients.resource_server`: a confidential client an administrator allows to introspect
 *   tokens issued to other clients.
 * - `refreshTokenReuseGrace` now defaults to 0; every earlier installation stored the old default
 *   (30 s) on its first start, which is moved to the new one.
 */
export const sql = `
ALTER TABLE oauth_signing_keys ADD COLUMN activates_at INTEGER;
ALTER TABLE oauth_clients ADD COLUMN resource_server INTEGER NOT NULL DEFAULT 0;
UPDATE settings SET value = json_set(value, '$.refreshTokenReuseGrace', '0s')
  WHERE key = 'OidcProvider' AND json_extract(value, '$.refreshTokenReuseGrace') = '30s';
`;
