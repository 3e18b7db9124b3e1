/** Browser-side OAuth state: flows in progress, sessions, consents, signing keys, and pruning. */
import type { Db } from "./db.ts";
import type { OAuthRepository } from "./oauth_repository.ts";
import { json, list, toFlow, toSigningKey } from "./oauth_rows.ts";

type FlowsAndSessions = Pick<
  OAuthRepository,
  | "insertFlow"
  | "flow"
  | "countFlowFailure"
  | "signInFlow"
  | "claimFlow"
  | "deleteFlow"
  | "insertSession"
  | "session"
  | "deleteSession"
  | "consent"
  | "putConsent"
  | "hasUserGrant"
  | "endConsentWithoutGrants"
  | "insertSigningKey"
  | "signingKeys"
  | "retireSigningKeys"
  | "deleteSigningKeysRetiredBefore"
  | "pruneExpired"
>;

/** SQLite implementation of the flow, session, consent and signing-key part of the repository. */
export function flowsAndSessions(db: Db): FlowsAndSessions {
  const done = <T>(value: T) => Promise.resolve(value);
  return {
    insertFlow(f) {
      db.run(
        `INSERT INTO oauth_flows (id, kind, client_id, params, csrf, account_id, auth_time, failed_attempts,
           expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        f.id,
        f.kind,
        f.clientId,
        json(f.params),
        f.csrf,
        f.accountId,
        f.authTime,
        f.failedAttempts,
        f.expiresAt,
      );
      return done(undefined);
    },
    flow(id) {
      const row = db.get("SELECT * FROM oauth_flows WHERE id = ?", id);
      return done(row && toFlow(row));
    },
    countFlowFailure(id, now) {
      const row = db.get<{ failed_attempts: number }>(
        `UPDATE oauth_flows SET failed_attempts = failed_attempts + 1 WHERE id = ? AND expires_at > ?
         RETURNING failed_attempts`,
        id,
        now,
      );
      return done(row && Number(row.failed_attempts));
    },
    signInFlow(id, c) {
      return done(
        db.run(
          `UPDATE oauth_flows SET account_id = ?, auth_time = ?
           WHERE id = ? AND failed_attempts < ? AND expires_at > ?`,
          c.accountId,
          c.authTime,
          id,
          c.maxFailures,
          c.now,
        ).changes > 0,
      );
    },
    claimFlow(id, c) {
      return done(
        db.run(
          "DELETE FROM oauth_flows WHERE id = ? AND failed_attempts < ? AND expires_at > ?",
          id,
          c.maxFailures,
          c.now,
        ).changes > 0,
      );
    },
    deleteFlow(id) {
      db.run("DELETE FROM oauth_flows WHERE id = ?", id);
      return done(undefined);
    },

    insertSession(s) {
      db.run(
        `INSERT INTO oauth_sessions (id_hash, account_id, credential_tag, auth_time, expires_at)
         VALUES (?, ?, ?, ?, ?)`,
        s.idHash,
        s.accountId,
        s.credentialTag,
        s.authTime,
        s.expiresAt,
      );
      return done(undefined);
    },
    session(idHash) {
      const r = db.get("SELECT * FROM oauth_sessions WHERE id_hash = ?", idHash);
      return done(
        r && {
          idHash: String(r.id_hash),
          accountId: Number(r.account_id),
          credentialTag: String(r.credential_tag),
          authTime: Number(r.auth_time),
          expiresAt: Number(r.expires_at),
        },
      );
    },
    deleteSession(idHash) {
      db.run("DELETE FROM oauth_sessions WHERE id_hash = ?", idHash);
      return done(undefined);
    },

    consent(accountId, clientId) {
      const row = db.get<{ scopes: string; granted_at: number }>(
        "SELECT scopes, granted_at FROM oauth_consents WHERE account_id = ? AND client_id = ?",
        accountId,
        clientId,
      );
      return done(row && { scopes: list(row.scopes), grantedAt: Number(row.granted_at) });
    },
    putConsent(accountId, clientId, scopes) {
      db.run(
        `INSERT INTO oauth_consents (account_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = excluded.scopes,
           granted_at = excluded.granted_at`,
        accountId,
        clientId,
        json(scopes),
        Date.now(),
      );
      return done(undefined);
    },

    hasUserGrant(accountId, clientId, now) {
      return done(
        db.get(
          `SELECT 1 AS found FROM oauth_grants WHERE account_id = ? AND client_id = ?
             AND grant_type <> 'client_credentials' AND expires_at > ? LIMIT 1`,
          accountId,
          clientId,
          now,
        ) !== undefined,
      );
    },
    endConsentWithoutGrants(accountId, clientId, now) {
      db.run(
        `DELETE FROM oauth_consents WHERE account_id = ? AND client_id = ? AND NOT EXISTS (
           SELECT 1 FROM oauth_grants WHERE account_id = ? AND client_id = ?
             AND grant_type <> 'client_credentials' AND expires_at > ?)`,
        accountId,
        clientId,
        accountId,
        clientId,
        now,
      );
      return done(undefined);
    },

    insertSigningKey(k) {
      return done(
        db.run(
          `INSERT INTO oauth_signing_keys (kid, alg, private_jwk, public_jwk, created_at, activates_at,
             retired_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          k.kid,
          k.alg,
          k.privateJwk,
          k.publicJwk,
          k.createdAt,
          k.activatesAt,
          k.retiredAt,
        ).id,
      );
    },
    signingKeys: () => done(db.all("SELECT * FROM oauth_signing_keys ORDER BY id").map(toSigningKey)),
    retireSigningKeys(exceptId, at) {
      db.run(
        "UPDATE oauth_signing_keys SET retired_at = ? WHERE id <> ? AND retired_at IS NULL",
        at,
        exceptId,
      );
      return done(undefined);
    },
    deleteSigningKeysRetiredBefore(at) {
      return done(db.run("DELETE FROM oauth_signing_keys WHERE retired_at < ?", at).changes);
    },

    pruneExpired(now) {
      let removed = 0;
      for (
        const sql of [
          "DELETE FROM oauth_codes WHERE expires_at < ?",
          "DELETE FROM oauth_device_codes WHERE expires_at < ?",
          "DELETE FROM oauth_flows WHERE expires_at < ?",
          "DELETE FROM oauth_sessions WHERE expires_at < ?",
          "DELETE FROM oauth_grants WHERE expires_at < ?",
        ]
      ) removed += db.run(sql, now).changes;
      return done(removed);
    },
  };
}
