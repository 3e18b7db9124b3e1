/**
 * x:OAuthGrant's change log: every token family that starts or ends, however it ends (revocation,
 * reuse detection, a password change, its client or account deleted by cascade, expiry), is logged
 * by the database itself, so no deletion path can forget to; a family extended (its expiresAt) is an
 * update. Directory-wide (account_id NULL) with
 * the grant's account as owner, like x:OAuthClient's.
 */
export const sql = `
CREATE TRIGGER oauth_grants_created AFTER INSERT ON oauth_grants BEGIN
  INSERT INTO changes (account_id, owner_id, type, object_id, kind, created_at)
  VALUES (NULL, NEW.account_id, 'OAuthGrant', NEW.id, 1,
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER oauth_grants_extended AFTER UPDATE OF expires_at ON oauth_grants
WHEN NEW.expires_at IS NOT OLD.expires_at BEGIN
  INSERT INTO changes (account_id, owner_id, type, object_id, kind, created_at)
  VALUES (NULL, NEW.account_id, 'OAuthGrant', NEW.id, 2,
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER oauth_grants_destroyed AFTER DELETE ON oauth_grants BEGIN
  INSERT INTO changes (account_id, owner_id, type, object_id, kind, created_at)
  VALUES (NULL, OLD.account_id, 'OAuthGrant', OLD.id, 3,
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
`;
