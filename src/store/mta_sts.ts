/**
 * Recipient domains' cached MTA-STS policies and the outbound TLS outcome counts for TLS reporting
 * (migration 038).
 */
import type { Db, Row } from "./db.ts";

/** A cached policy (RFC 8461 §3.2) with when it was fetched. */
export interface CachedMtaStsPolicy {
  domain: string;
  id: string;
  mode: "enforce" | "testing" | "none";
  mx: string[];
  maxAge: number;
  /** Milliseconds since the epoch; the policy is valid until fetchedAt + maxAge seconds. */
  fetchedAt: number;
}

/** One outbound TLS outcome to count (RFC 8460 §4). */
export interface TlsOutcome {
  domain: string;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  policy: string;
  mx: string;
  /** "" for a successful session, else the RFC 8460 result type. */
  result: string;
}

/** A count of one outcome. */
export interface TlsOutcomeCount extends TlsOutcome {
  count: number;
}

/** Persistence of MTA-STS policies and TLS outcome counts. */
export interface MtaStsRepository {
  policy(domain: string): Promise<CachedMtaStsPolicy | undefined>;
  /** Stores (or replaces) the domain's policy. */
  savePolicy(policy: CachedMtaStsPolicy): Promise<void>;
  /** Deletes policies whose max_age ran out before `before` (ms); how many went. */
  deleteExpiredPolicies(before: number): Promise<number>;
  /** Adds one to the count of `outcome`. */
  countTls(outcome: TlsOutcome): void;
  /** The counts of one UTC day, by domain. */
  tlsCounts(day: string): Promise<TlsOutcomeCount[]>;
  /** Deletes counts (and report sends) of days before `day`; how many count rows went. */
  deleteTlsCountsBefore(day: string): Promise<number>;
  /** (domain, day) pairs with counts, of days before `day`, whose report is not sent yet. */
  unsentTlsReports(beforeDay: string): Promise<{ domain: string; day: string }[]>;
  /**
   * Claims mailing one report until `until` (ms) unless it is sent or claimed by another worker
   * whose claim has not run out at `now`; whether this worker got it.
   */
  claimTlsReport(domain: string, day: string, options: { now: number; until: number }): Promise<boolean>;
  /** Marks a claimed report as sent at `now`. */
  tlsReportSent(domain: string, day: string, now: number): Promise<void>;
}

function toPolicy(row: Row): CachedMtaStsPolicy {
  return {
    domain: String(row.domain),
    id: String(row.policy_id),
    mode: String(row.mode) as CachedMtaStsPolicy["mode"],
    mx: JSON.parse(String(row.mx)) as string[],
    maxAge: Number(row.max_age),
    fetchedAt: Number(row.fetched_at),
  };
}

/** SQLite implementation of {@link MtaStsRepository}. */
export function sqliteMtaSts(db: Db): MtaStsRepository {
  return {
    policy(domain) {
      const row = db.get("SELECT * FROM mta_sts_policies WHERE domain = ?", domain);
      return Promise.resolve(row && toPolicy(row));
    },
    savePolicy(p) {
      db.run(
        `INSERT INTO mta_sts_policies (domain, policy_id, mode, mx, max_age, fetched_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id, mode = excluded.mode,
           mx = excluded.mx, max_age = excluded.max_age, fetched_at = excluded.fetched_at`,
        p.domain,
        p.id,
        p.mode,
        JSON.stringify(p.mx),
        p.maxAge,
        p.fetchedAt,
      );
      return Promise.resolve();
    },
    deleteExpiredPolicies(before) {
      return Promise.resolve(
        db.run("DELETE FROM mta_sts_policies WHERE fetched_at + max_age * 1000 < ?", before).changes,
      );
    },
    countTls(o) {
      db.run(
        `INSERT INTO tls_report_counts (domain, day, policy, mx, result, count) VALUES (?, ?, ?, ?, ?, 1)
         ON CONFLICT DO UPDATE SET count = count + 1`,
        o.domain,
        o.day,
        o.policy,
        o.mx,
        o.result,
      );
    },
    tlsCounts(day) {
      const rows = db.all(
        "SELECT * FROM tls_report_counts WHERE day = ? ORDER BY domain, policy, mx, result",
        day,
      );
      return Promise.resolve(rows.map((r) => ({
        domain: String(r.domain),
        day: String(r.day),
        policy: String(r.policy),
        mx: String(r.mx),
        result: String(r.result),
        count: Number(r.count),
      })));
    },
    deleteTlsCountsBefore(day) {
      db.run("DELETE FROM tls_report_sends WHERE day < ?", day);
      return Promise.resolve(db.run("DELETE FROM tls_report_counts WHERE day < ?", day).changes);
    },
    unsentTlsReports(beforeDay) {
      const rows = db.all<{ domain: string; day: string }>(
        `SELECT DISTINCT c.domain, c.day FROM tls_report_counts c
         LEFT JOIN tls_report_sends s ON s.domain = c.domain AND s.day = c.day
         WHERE c.day < ? AND s.sent_at IS NULL ORDER BY c.day, c.domain`,
        beforeDay,
      );
      return Promise.resolve(rows.map((r) => ({ domain: String(r.domain), day: String(r.day) })));
    },
    claimTlsReport(domain, day, { now, until }) {
      db.run("INSERT OR IGNORE INTO tls_report_sends (domain, day) VALUES (?, ?)", domain, day);
      const { changes } = db.run(
        `UPDATE tls_report_sends SET claimed_until = ? WHERE domain = ? AND day = ? AND sent_at IS NULL
         AND claimed_until < ?`,
        until,
        domain,
        day,
        now,
      );
      return Promise.resolve(changes === 1);
    },
    tlsReportSent(domain, day, now) {
      db.run("UPDATE tls_report_sends SET sent_at = ? WHERE domain = ? AND day = ?", now, domain, day);
      return Promise.resolve();
    },
  };
}
