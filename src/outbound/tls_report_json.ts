/**
 * TLS-RPT wire formats (RFC 8460): the `_smtp._tls` TXT record that says where a domain wants its
 * reports (§3), and the aggregate report of one day (§4). Pure functions; sending is in
 * tls_report_send.ts.
 */
import type { CachedMtaStsPolicy, TlsOutcomeCount } from "../store/mod.ts";

/**
 * The mailto: addresses of a domain's `_smtp._tls` TXT records (each joined from its strings), or
 * [] when it asks for none. §3: records not starting with "v=TLSRPTv1;" are discarded, and unless
 * exactly one is left the domain does not implement TLS-RPT. https: URIs are {@link reportUrls}; a
 * malformed mailto: is skipped.
 */
export function reportAddresses(records: readonly string[]): string[] {
  const addresses: string[] = [];
  for (const uri of reportUris(records)) {
    if (!/^mailto:/i.test(uri)) continue;
    let address: string;
    try {
      address = decodeURIComponent(uri.slice(7).split("?")[0]);
    } catch {
      continue;
    }
    if (/^[^\s@<>(),;:"]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/.test(address)) addresses.push(address);
  }
  return [...new Set(addresses)];
}

/**
 * The https: URIs of the same record, where reports are POSTed (§3, §5.3.2); other schemes (http:
 * included: §3 names https only) are skipped.
 */
export function reportUrls(records: readonly string[]): string[] {
  const urls: string[] = [];
  for (const uri of reportUris(records)) {
    if (!/^https:/i.test(uri) || !URL.canParse(uri)) continue;
    urls.push(new URL(uri).href);
  }
  return [...new Set(urls)];
}

/** The rua URIs of the one v=TLSRPTv1 record, or [] unless there is exactly one (§3). */
function reportUris(records: readonly string[]): string[] {
  const tlsrpt = records.filter((r) => /^v=TLSRPTv1\s*;/.test(r));
  if (tlsrpt.length !== 1) return [];
  const fields = new Map<string, string>();
  for (const term of tlsrpt[0].split(";")) {
    const eq = term.indexOf("=");
    if (eq < 0) continue;
    const name = term.slice(0, eq).trim();
    if (!fields.has(name)) fields.set(name, term.slice(eq + 1).trim());
  }
  return (fields.get("rua") ?? "").split(",").map((u) => u.trim()).filter(Boolean);
}

/** Who sends the report. */
export interface ReportSubmitter {
  /** The organization, e.g. the mail host name. */
  organization: string;
  /** The submitter's host name (TLS-Report-Submitter, §5.3). */
  host: string;
  /** An address to write to about the report. */
  contact: string;
}

/** The first and last second of a UTC day (YYYY-MM-DD), in ms. */
export function dayRange(day: string): { start: number; end: number } {
  const start = Date.parse(`${day}T00:00:00Z`);
  return { start, end: start + 86_399_000 };
}

/**
 * The aggregate report (§4.4) of `domain` for `day` from the day's counts of that domain and the
 * cached policy (for policy-string and mx-host of an "sts" policy).
 */
export function tlsReport(
  domain: string,
  day: string,
  options: { counts: readonly TlsOutcomeCount[]; policy?: CachedMtaStsPolicy; submitter: ReportSubmitter },
): Record<string, unknown> {
  const { start, end } = dayRange(day);
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  const byPolicy = new Map<string, TlsOutcomeCount[]>();
  for (const count of options.counts) {
    byPolicy.set(count.policy, [...byPolicy.get(count.policy) ?? [], count]);
  }
  const policies = [...byPolicy].map(([type, counts]) => {
    const failed = counts.filter((c) => c.result !== "");
    const sum = (list: TlsOutcomeCount[]) => list.reduce((n, c) => n + c.count, 0);
    const sts = type === "sts" && options.policy;
    return {
      policy: {
        "policy-type": type,
        ...(sts
          ? {
            "policy-string": [
              "version: STSv1",
              `mode: ${options.policy!.mode}`,
              ...options.policy!.mx.map((m) => `mx: ${m}`),
              `max_age: ${options.policy!.maxAge}`,
            ],
            "mx-host": options.policy!.mx,
          }
          : {}),
        "policy-domain": domain,
      },
      summary: {
        "total-successful-session-count": sum(counts) - sum(failed),
        "total-failure-session-count": sum(failed),
      },
      "failure-details": failed.map((c) => ({
        "result-type": c.result,
        ...(c.mx ? { "receiving-mx-hostname": c.mx } : {}),
        "failed-session-count": c.count,
      })),
    };
  });
  return {
    "organization-name": options.submitter.organization,
    "date-range": { "start-datetime": iso(start), "end-datetime": iso(end) },
    "contact-info": options.submitter.contact,
    "report-id": `${day}_${domain}@${options.submitter.host}`,
    policies,
  };
}
