/**
 * Certificates ordered with ACME, their renewal claims, ACME account keys and pending HTTP-01
 * answers (migration 034). Private keys arrive sealed: the store never sees one in clear.
 */
import type { Db } from "./db.ts";

/** A certificate row; `certPem` is "" until the first order succeeded. */
export interface CertificateRecord {
  name: string;
  /** The names ordered, comma-separated, as configured when the row was last written. */
  domains: string;
  certPem: string;
  keySealed: string;
  /** Expiry of `certPem` (ms since the epoch; 0: none yet). */
  notAfter: number;
  updatedAt: number;
  /** When the claim of the worker ordering runs out (0: not claimed). */
  claimedUntil: number;
  /** No order before this time (backoff after a failure). */
  nextAttemptAt: number;
  failures: number;
  lastError: string;
}

/** What an order produced. */
export interface IssuedCertificate {
  domains: string;
  certPem: string;
  keySealed: string;
  notAfter: number;
}

/** Certificates, ACME accounts and challenge answers. */
export interface CertificateRepository {
  get(name: string): Promise<CertificateRecord | undefined>;
  /** Creates the row (no certificate yet) unless it exists. */
  ensure(name: string, domains: string): Promise<void>;
  /**
   * Claims the row until `until` unless a live claim is held at `now` or its backoff has not run out;
   * the row as claimed, or undefined. One statement, so of two racing workers exactly one gets it.
   */
  claim(name: string, now: number, until: number): Promise<CertificateRecord | undefined>;
  /**
   * Stores a new certificate and releases the claim, if the claim `claimedUntil` is still the row's
   * (a worker whose claim ran out and was taken over stores nothing); whether it stored.
   */
  save(name: string, claimedUntil: number, issued: IssuedCertificate & { now: number }): Promise<boolean>;
  /** Records a failed order under the claim `claimedUntil`: releases it and sets the next attempt. */
  fail(name: string, claimedUntil: number, failure: { error: string; nextAttemptAt: number }): Promise<void>;
  /** The sealed account key of an ACME directory. */
  accountKey(directoryUrl: string): Promise<string | undefined>;
  /** Stores an account key unless one exists already; returns the one kept (the first writer wins). */
  keepAccountKey(directoryUrl: string, keySealed: string, now: number): Promise<string>;
  /** Publishes an HTTP-01 answer until `expiresAt`. */
  putChallenge(token: string, keyAuthorization: string, expiresAt: number): Promise<void>;
  deleteChallenge(token: string): Promise<void>;
  /** The answer for a token still pending at `now`. */
  challenge(token: string, now: number): Promise<string | undefined>;
}

function toRecord(row: Record<string, unknown>): CertificateRecord {
  return {
    name: String(row.name),
    domains: String(row.domains),
    certPem: String(row.cert_pem),
    keySealed: String(row.key_sealed),
    notAfter: Number(row.not_after),
    updatedAt: Number(row.updated_at),
    claimedUntil: Number(row.claimed_until),
    nextAttemptAt: Number(row.next_attempt_at),
    failures: Number(row.failures),
    lastError: String(row.last_error),
  };
}

/** SQLite implementation of {@link CertificateRepository}. */
export function sqliteCertificates(db: Db): CertificateRepository {
  // Each method resolves or rejects (a busy database rejects rather than throwing past a .catch()).
  const later = <T>(body: () => T) => new Promise<T>((resolve) => resolve(body()));
  return {
    get: (name) =>
      later(() => {
        const row = db.get("SELECT * FROM certificates WHERE name = ?", name);
        return row && toRecord(row);
      }),
    ensure: (name, domains) =>
      later(() =>
        void db.run("INSERT OR IGNORE INTO certificates (name, domains) VALUES (?, ?)", name, domains)
      ),
    claim: (name, now, until) =>
      later(() => {
        const row = db.get(
          `UPDATE certificates SET claimed_until = ?
           WHERE name = ? AND claimed_until < ? AND next_attempt_at <= ? RETURNING *`,
          until,
          name,
          now,
          now,
        );
        return row && toRecord(row);
      }),
    save: (name, claimedUntil, issued) =>
      later(() =>
        db.run(
          `UPDATE certificates SET domains = ?, cert_pem = ?, key_sealed = ?, not_after = ?, updated_at = ?,
             claimed_until = 0, next_attempt_at = 0, failures = 0, last_error = ''
           WHERE name = ? AND claimed_until = ?`,
          issued.domains,
          issued.certPem,
          issued.keySealed,
          issued.notAfter,
          issued.now,
          name,
          claimedUntil,
        ).changes === 1
      ),
    fail: (name, claimedUntil, failure) =>
      later(() =>
        void db.run(
          `UPDATE certificates SET claimed_until = 0, next_attempt_at = ?, failures = failures + 1,
             last_error = ? WHERE name = ? AND claimed_until = ?`,
          failure.nextAttemptAt,
          failure.error.slice(0, 1000),
          name,
          claimedUntil,
        )
      ),
    accountKey: (directoryUrl) =>
      later(() => {
        const row = db.get("SELECT key_sealed FROM acme_accounts WHERE directory_url = ?", directoryUrl);
        return row ? String(row.key_sealed) : undefined;
      }),
    // INSERT OR IGNORE is atomic: of two processes creating a key at once, both read the first one's.
    keepAccountKey: (directoryUrl, keySealed, now) =>
      later(() => {
        db.run(
          "INSERT OR IGNORE INTO acme_accounts (directory_url, key_sealed, created_at) VALUES (?, ?, ?)",
          directoryUrl,
          keySealed,
          now,
        );
        const row = db.get("SELECT key_sealed FROM acme_accounts WHERE directory_url = ?", directoryUrl);
        return String(row?.key_sealed);
      }),
    putChallenge: (token, keyAuthorization, expiresAt) =>
      later(() => {
        db.run("DELETE FROM acme_challenges WHERE expires_at < ?", Date.now());
        db.run(
          "INSERT OR REPLACE INTO acme_challenges (token, key_authorization, expires_at) VALUES (?, ?, ?)",
          token,
          keyAuthorization,
          expiresAt,
        );
      }),
    deleteChallenge: (token) =>
      later(() => void db.run("DELETE FROM acme_challenges WHERE token = ?", token)),
    challenge: (token, now) =>
      later(() => {
        const row = db.get(
          "SELECT key_authorization FROM acme_challenges WHERE token = ? AND expires_at >= ?",
          token,
          now,
        );
        return row ? String(row.key_authorization) : undefined;
      }),
  };
}
