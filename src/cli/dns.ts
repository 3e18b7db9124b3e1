/**
 * `postern dns DOMAIN`: the DNS records a domain needs (src/model/dns_records.ts), as zone-file
 * lines or, with --json, as objects; locally (the mail host and ports from this command's flags and
 * environment) or from a server (its own).
 */
import type { DnsRecord } from "../model/dns_records.ts";
import { zoneFile } from "../model/dns_records.ts";
import { domainNameSchema } from "../model/objects/mod.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { output, UsageError } from "./io.ts";

/** Prints the records of `domain`. */
export async function dnsCommand(
  domain: string,
  options: ConnectOptions & { mailHost?: string },
): Promise<void> {
  const parsed = domainNameSchema.safeParse(domain);
  if (!parsed.success) {
    throw new UsageError(`"${domain}" is not a domain name: ${parsed.error.issues[0]?.message}`);
  }
  const answer = await withClient(options, (client) => client.report("DnsRecords", { domain: parsed.data }));
  const records = answer.records as DnsRecord[];
  if (options.json) output({ domain: parsed.data, records }, options);
  else console.log(zoneFile(records).trimEnd());
}
