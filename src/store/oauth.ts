import type { Db } from "./db.ts";
import {
  GRANT_COLUMNS,
  grantFromValues,
  json,
  toClient,
  toCode,
  toDeviceCode,
  toGrant,
} from "./oauth_rows.ts";
import type { NewClient, OAuthRepository } from "./oauth_repository.ts";
import { flowsAndSessions } from "./oauth_sessions.ts";
import type { SnapshotReads } from "./snapshot_reads.ts";

export type { OAuthRepository } from "./oauth_repository.ts";

/**
 * SQLite implementation of {@link OAuthRepository}. A family read by id outside a transaction goes
 * to `snapshots` when given (snapshot_reads.ts): the read of every fresh refresh token.
 */
export function sqliteOAuth(db: Db, snapshots?: SnapshotReads): OAuthRepository {
  return { ...clientsAndGrants(db, snapshots), ...flowsAndSessions(db) };
}

const GRANT_BY_ID = `SELECT ${GRANT_COLUMNS} FROM oauth_grants WHERE id = ?`;

/** Clients, token families, authorization codes and device codes. */
function clientsAndGrants(
  db: Db,
  snapshots: SnapshotReads | undefined,
): Omit<OAuthRepository, keyof ReturnType<typeof flowsAndSessions>> {
  const clientColumns = (c: NewClient) =>
    [
      c.clientId,
      c.name,
      c.type,
      c.secretHash,
      c.ownerId,
      json(c.redirectUris),
      json(c.postLogoutRedirectUris),
      json(c.grantTypes),
      json(c.scopes),
      c.requireConsent ? 1 : 0,
      c.dynamic ? 1 : 0,
      c.description,
      c.resourceServer ? 1 : 0,
    ] as const;
  const done = <T>(value: T) => Promise.resolve(value);
  return {
    insertClient(c) {
      const now = Date.now();
      return done(
        db.run(
          `INSERT INTO oauth_clients (client_id, name, type, secret_hash, owner_id, redirect_uris,
             post_logout_redirect_uris, grant_types, scopes, require_consent, dynamic, description,
             resource_server, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ...clientColumns(c),
          now,
          now,
        ).id,
      );
    },
    updateClient(id, c) {
      return done(
        db.run(
          `UPDATE oauth_clients SET client_id = ?, name = ?, type = ?, secret_hash = ?, owner_id = ?,
             redirect_uris = ?, post_logout_redirect_uris = ?, grant_types = ?, scopes = ?,
             require_consent = ?, dynamic = ?, description = ?, resource_server = ?, updated_at = ?
           WHERE id = ?`,
          ...clientColumns(c),
          Date.now(),
          id,
        ).changes > 0,
      );
    },
    deleteClient: (id) => done(db.run("DELETE FROM oauth_clients WHERE id = ?", id).changes > 0),
    client(id) {
      const row = db.get("SELECT * FROM oauth_clients WHERE id = ?", id);
      return done(row && toClient(row));
    },
    clientByClientId(clientId) {
      const row = db.get("SELECT * FROM oauth_clients WHERE client_id = ?", clientId);
      return done(row && toClient(row));
    },
    listClients(ownerId) {
      const rows = ownerId === undefined
        ? db.all("SELECT * FROM oauth_clients ORDER BY id")
        : db.all("SELECT * FROM oauth_clients WHERE owner_id = ? ORDER BY id", ownerId);
      return done(rows.map(toClient));
    },

    insertGrant(g) {
      return done(
        db.run(
          `INSERT INTO oauth_grants (client_id, account_id, grant_type, scopes, auth_time,
             refresh_generation, refresh_issued_at, refresh_expires_at, rotated_at, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          g.clientId,
          g.accountId,
          g.grantType,
          json(g.scopes),
          g.authTime,
          g.refreshGeneration,
          g.refreshIssuedAt,
          g.refreshExpiresAt,
          g.rotatedAt,
          Date.now(),
          g.expiresAt,
        ).id,
      );
    },
    grant(id) {
      // Inside a transaction, on its connection: the transaction may have changed the row.
      const values = snapshots && !db.inTransaction && snapshots.available()
        ? snapshots.firstValues(GRANT_BY_ID, id)
        : db.firstValues(GRANT_BY_ID, id);
      return done(values && grantFromValues(values));
    },
    rotateRefresh(id, c) {
      return done(
        db.run(
          `UPDATE oauth_grants SET refresh_generation = ?, refresh_issued_at = ?, refresh_expires_at = ?,
             rotated_at = ?, expires_at = MAX(expires_at, ?) WHERE id = ? AND refresh_generation = ?`,
          c.generation,
          c.issuedAt,
          c.expiresAt,
          c.rotatedAt,
          c.expiresAt,
          id,
          c.from,
        ).changes > 0,
      );
    },
    extendGrant(id, expiresAt) {
      db.run("UPDATE oauth_grants SET expires_at = MAX(expires_at, ?) WHERE id = ?", expiresAt, id);
      return done(undefined);
    },
    deleteGrant: (id) => done(db.run("DELETE FROM oauth_grants WHERE id = ?", id).changes > 0),
    listGrants(accountId, now) {
      return done(
        (accountId === undefined
          ? db.all("SELECT * FROM oauth_grants WHERE expires_at > ? ORDER BY id DESC", now)
          : db.all(
            "SELECT * FROM oauth_grants WHERE account_id = ? AND expires_at > ? ORDER BY id DESC",
            accountId,
            now,
          )).map(toGrant),
      );
    },
    deleteGrantsOf(accountId) {
      const ids = db.all<{ id: number }>("SELECT id FROM oauth_grants WHERE account_id = ?", accountId)
        .map((r) => Number(r.id));
      db.run("DELETE FROM oauth_grants WHERE account_id = ?", accountId);
      return done(ids);
    },

    insertCode(c) {
      db.run(
        `INSERT INTO oauth_codes (code_hash, client_id, account_id, redirect_uri, scopes, code_challenge,
           nonce, auth_time, expires_at, used_at, grant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        c.codeHash,
        c.clientId,
        c.accountId,
        c.redirectUri,
        json(c.scopes),
        c.codeChallenge,
        c.nonce,
        c.authTime,
        c.expiresAt,
        c.usedAt,
        c.grantId,
      );
      return done(undefined);
    },
    consumeCode(codeHash, now) {
      // One statement: of two concurrent redemptions (even from two processes) exactly one changes
      // the row.
      const row = db.get(
        `UPDATE oauth_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?
         RETURNING *`,
        now,
        codeHash,
        now,
      );
      return done(row && toCode(row));
    },
    takeReplayedCode(codeHash, clientId) {
      // One statement against setCodeGrant's: whichever runs second sees what the first did.
      const row = db.get<{ grant_id: number | null }>(
        `DELETE FROM oauth_codes WHERE code_hash = ? AND client_id = ? AND used_at IS NOT NULL
         RETURNING grant_id`,
        codeHash,
        clientId,
      );
      return done(row && { grantId: row.grant_id === null ? null : Number(row.grant_id) });
    },
    setCodeGrant(codeHash, grantId) {
      return done(
        db.run("UPDATE oauth_codes SET grant_id = ? WHERE code_hash = ?", grantId, codeHash).changes > 0,
      );
    },

    insertDeviceCode(c) {
      db.run(
        `INSERT INTO oauth_device_codes (device_code_hash, user_code, client_id, scopes, status, account_id,
           auth_time, interval_seconds, last_poll_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        c.deviceCodeHash,
        c.userCode,
        c.clientId,
        json(c.scopes),
        c.status,
        c.accountId,
        c.authTime,
        c.intervalSeconds,
        c.lastPollAt,
        c.expiresAt,
      );
      return done(undefined);
    },
    deviceCode(hash) {
      const row = db.get("SELECT * FROM oauth_device_codes WHERE device_code_hash = ?", hash);
      return done(row && toDeviceCode(row));
    },
    deviceCodeByUserCode(userCode) {
      const row = db.get("SELECT * FROM oauth_device_codes WHERE user_code = ?", userCode);
      return done(row && toDeviceCode(row));
    },
    pollDeviceCode(hash, at, intervalSeconds) {
      const row = db.get<{ last_poll_at: number | null }>(
        `UPDATE oauth_device_codes SET last_poll_at = ?, interval_seconds = ? WHERE device_code_hash = ?
         RETURNING (SELECT last_poll_at FROM oauth_device_codes WHERE device_code_hash = ?) AS last_poll_at`,
        at,
        intervalSeconds,
        hash,
        hash,
      );
      return done(row?.last_poll_at ?? null);
    },
    decideDeviceCode(userCode, d) {
      return done(
        db.run(
          `UPDATE oauth_device_codes SET status = ?, account_id = ?, auth_time = ?
           WHERE user_code = ? AND status = 'pending'`,
          d.status,
          d.accountId,
          d.authTime,
          userCode,
        ).changes > 0,
      );
    },
    useDeviceCode(hash) {
      return done(
        db.run(
          "UPDATE oauth_device_codes SET status = 'used' WHERE device_code_hash = ? AND status = 'approved'",
          hash,
        ).changes > 0,
      );
    },
  };
}
