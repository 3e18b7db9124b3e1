/**
 * A push subscription is tied to the credential that created it (RFC 8620 §7.2: "Should these
 * credentials expire or be revoked, the push subscription MUST be destroyed"): the password, app password
 * or API key row, or the OAuth token family. Deleting that row deletes the subscription with it, in
 * every process. Subscriptions made before this migration name no credential; they end with their own
 * expiry (at most 7 days).
 */
export const sql = `
ALTER TABLE push_subscriptions ADD COLUMN credential_id INTEGER REFERENCES credentials(id) ON DELETE CASCADE;
ALTER TABLE push_subscriptions ADD COLUMN grant_id INTEGER REFERENCES oauth_grants(id) ON DELETE CASCADE;
CREATE INDEX push_subscriptions_credential ON push_subscriptions(credential_id) WHERE credential_id IS NOT NULL;
CREATE INDEX push_subscriptions_grant ON push_subscriptions(grant_id) WHERE grant_id IS NOT NULL;
`;
