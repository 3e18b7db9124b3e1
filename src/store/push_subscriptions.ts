/** Persistence of push subscriptions. */
import type { Db, Row } from "./db.ts";

/** A push subscription as stored; expires in ms since the epoch. */
export interface PushSubscriptionRecord {
  id: number;
  accountId: number;
  deviceClientId: string;
  url: string;
  /** RFC 8291 keys (base64url), or null for unencrypted pushes. */
  keys: { p256dh: string; auth: string } | null;
  /** The code the server pushed for verification. */
  verificationCode: string;
  /** The client has sent the code back: pushes may start. */
  verified: boolean;
  expires: number;
  types: string[] | null;
  /** The password, app password or API key that created it; its deletion deletes the subscription. */
  credentialId: number | null;
  /** The OAuth token family that created it; its revocation deletes the subscription. */
  grantId: number | null;
}

/** Persistence of push subscriptions. */
export interface PushSubscriptionRepository {
  list(accountId: number): Promise<PushSubscriptionRecord[]>;
  /**
   * Verified subscriptions of every enabled account that have not expired at `now`, nor has the credential
   * or token family that created them.
   */
  active(now: number): Promise<PushSubscriptionRecord[]>;
  /** Whether subscription `id` is still one of {@link active}'s. */
  isActive(id: number, now: number): Promise<boolean>;
  insert(subscription: Omit<PushSubscriptionRecord, "id">, now: number): Promise<number>;
  update(subscription: PushSubscriptionRecord): Promise<void>;
  delete(id: number): Promise<boolean>;
  /** Removes the subscriptions expired at `now`; how many. */
  deleteExpired(now: number): Promise<number>;
}

function toSubscription(row: Row): PushSubscriptionRecord {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    deviceClientId: String(row.device_client_id),
    url: String(row.url),
    keys: row.p256dh === null ? null : { p256dh: String(row.p256dh), auth: String(row.auth) },
    verificationCode: String(row.verification_code),
    verified: Number(row.verified) === 1,
    expires: Number(row.expires),
    types: row.types === null ? null : JSON.parse(String(row.types)),
    credentialId: row.credential_id === null ? null : Number(row.credential_id),
    grantId: row.grant_id === null ? null : Number(row.grant_id),
  };
}

/**
 * The subscriptions that may be pushed to: verified, unexpired, of an enabled account, and whose credential
 * (app passwords and API keys expire) or token family has not expired. A revoked one is already gone.
 */
const ACTIVE = `SELECT s.* FROM push_subscriptions s
  JOIN accounts a ON a.id = s.account_id
  LEFT JOIN credentials c ON c.id = s.credential_id
  LEFT JOIN oauth_grants g ON g.id = s.grant_id
  WHERE s.verified = 1 AND s.expires > ?1 AND a.enabled = 1
    AND (c.expires_at IS NULL OR c.expires_at > ?1)
    AND (s.grant_id IS NULL OR g.expires_at > ?1)`;

/** SQLite implementation of {@link PushSubscriptionRepository}. */
export function sqlitePushSubscriptions(db: Db): PushSubscriptionRepository {
  return {
    list: (accountId) =>
      Promise.resolve(
        db.all("SELECT * FROM push_subscriptions WHERE account_id = ? ORDER BY id", accountId).map(
          toSubscription,
        ),
      ),
    active: (now) => Promise.resolve(db.all(`${ACTIVE} ORDER BY s.id`, now).map(toSubscription)),
    isActive: (id, now) => Promise.resolve(db.get(`${ACTIVE} AND s.id = ?2`, now, id) !== undefined),
    insert(s, now) {
      return Promise.resolve(
        db.run(
          `INSERT INTO push_subscriptions (account_id, device_client_id, url, p256dh, auth, verification_code,
             verified, expires, types, created_at, credential_id, grant_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          s.accountId,
          s.deviceClientId,
          s.url,
          s.keys?.p256dh ?? null,
          s.keys?.auth ?? null,
          s.verificationCode,
          s.verified ? 1 : 0,
          s.expires,
          s.types === null ? null : JSON.stringify(s.types),
          now,
          s.credentialId,
          s.grantId,
        ).id,
      );
    },
    update(s) {
      db.run(
        "UPDATE push_subscriptions SET verified = ?, expires = ?, types = ? WHERE id = ?",
        s.verified ? 1 : 0,
        s.expires,
        s.types === null ? null : JSON.stringify(s.types),
        s.id,
      );
      return Promise.resolve();
    },
    delete: (id) => Promise.resolve(db.run("DELETE FROM push_subscriptions WHERE id = ?", id).changes > 0),
    deleteExpired: (now) =>
      Promise.resolve(db.run("DELETE FROM push_subscriptions WHERE expires <= ?", now).changes),
  };
}
