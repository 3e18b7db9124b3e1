/**
 * `postern dns DOMAIN`: the DNS records a domain needs (src/model/dns_records.ts), as zone-file
 * lines or, with --json, as objects; locally (the mail host and ports from this command's flags and
 * environment) or from a server (its own). `postern dns check DOMAIN`: the same records looked up
 * through `--dns-server` (or the system's resolver) and each said ok, missing or wrong (src/dns/);
 * exit 1 when one is not ok.
 */
import { resolveDnsServers } from "../config/mod.ts";
import { checkDnsRecords, checkReport, DnsResolver, type RecordCheck } from "../dns/mod.ts";
import type { DnsRecord } from "../model/dns_records.ts";
import { zoneFile } from "../model/dns_records.ts";
import { MisconfigurationError, UnavailableError } from "../model/errors.ts";
import { domainNameSchema } from "../model/objects/mod.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { output, UsageError } from "./io.ts";
import { say, streams } from "./streams.ts";

/** Prints the records of `domain`. */
export async function dnsCommand(
  domain: string,
  options: ConnectOptions & { mailHost?: string },
): Promise<void> {
  const { name, records } = await recordsOf(domain, options);
  if (options.json) output({ domain: name, records }, options);
  else say(zoneFile(records).trimEnd());
}

/** Looks up the records of `domain` and prints what is ok, missing or wrong; fails when one is not ok. */
export async function dnsCheckCommand(
  domain: string,
  options: ConnectOptions & { mailHost?: string; dnsServer?: string },
): Promise<void> {
  const servers = resolveDnsServers(options.dnsServer, streams().env);
  const { name, records } = await recordsOf(domain, options);
  const resolver = new DnsResolver({ servers });
  const checks = await checkDnsRecords(name, records, resolver);
  const asked = servers.length ? servers.join(", ") : "the system's resolver";
  if (checks.length && checks.every((c) => c.status === "error")) {
    const first = checks[0];
    throw new UnavailableError(
      `DNS server ${asked} answered no look-up (${first.name} ${first.type}: ${first.detail})`,
    );
  }
  if (options.json) {
    output({ domain: name, dnsServers: servers, ok: checks.every(isOk), records: checks }, options);
  } else say(checkReport(checks).join("\n"));
  const failed = checks.filter((c) => !isOk(c));
  if (failed.length) {
    const counts = (["missing", "wrong", "error"] as const)
      .map((s) => [s, failed.filter((c) => c.status === s).length] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s === "error" ? "not answered" : s}`);
    throw new MisconfigurationError(
      `DNS of ${name} (asked ${asked}): ${counts.join(", ")} of ${checks.length} records`,
    );
  }
}

async function recordsOf(domain: string, options: ConnectOptions & { mailHost?: string }) {
  const parsed = domainNameSchema.safeParse(domain);
  if (!parsed.success) {
    throw new UsageError(`"${domain}" is not a domain name: ${parsed.error.issues[0]?.message}`);
  }
  const answer = await withClient(options, (client) => client.report("DnsRecords", { domain: parsed.data }));
  return { name: parsed.data, records: answer.records as DnsRecord[] };
}

const isOk = (check: RecordCheck) => check.status === "ok";

/** `dns A B` where A is not `check`, or `dns check` alone: a usage error naming the two forms. */
export function dnsUsage(first: string, second: string): Promise<void> {
  return Promise.reject(
    new UsageError(
      `"dns ${first} ${second}": use "dns DOMAIN" to print the records or "dns check DOMAIN" to look them up`,
    ),
  );
}
