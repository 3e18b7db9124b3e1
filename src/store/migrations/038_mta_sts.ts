/**
 * MTA-STS and TLS reporting. `domains.mta_sts_mode` is the mode of the policy this server
 * publishes for a local domain (RFC 8461 §3.2; testing by default, so TLS reports show problems
 * before senders enforce). `mta_sts_policies` caches recipient domains' policies, shared by every process and kept across
 * restarts (§5.1: a cached policy applies while the TXT record or the policy cannot be fetched).
 * `tls_report_counts` holds outbound TLS outcomes per policy domain and UTC day (RFC 8460 §4): one
 * row per policy type, MX host and result ('' for success), with a count. `tls_report_sends` is
 * the claimed work of mailing one domain's report of one day (claimed_until, then sent_at).
 */
export const sql = `
ALTER TABLE domains ADD COLUMN mta_sts_mode TEXT NOT NULL DEFAULT 'testing'
  CHECK (mta_sts_mode IN ('enforce', 'testing', 'none'));
CREATE TABLE mta_sts_policies (
  domain TEXT PRIMARY KEY,
  policy_id TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('enforce', 'testing', 'none')),
  mx TEXT NOT NULL,
  max_age INTEGER NOT NULL,
  fetched_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE tls_report_counts (
  domain TEXT NOT NULL,
  day TEXT NOT NULL,
  policy TEXT NOT NULL,
  mx TEXT NOT NULL,
  result TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (domain, day, policy, mx, result)
) WITHOUT ROWID;
CREATE TABLE tls_report_sends (
  domain TEXT NOT NULL,
  day TEXT NOT NULL,
  claimed_until INTEGER NOT NULL DEFAULT 0,
  sent_at INTEGER,
  PRIMARY KEY (domain, day)
) WITHOUT ROWID;
`;
