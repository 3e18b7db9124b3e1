/**
 * Where mail for a domain goes (RFC 5321 §5.1), read in order:
 *
 * 1. `mxHostsOf` asks the resolver for the domain's MX records. Hosts come lowest preference first,
 *    equal preferences shuffled (§5.1: "randomize them to spread the load"); a record whose exchange
 *    is not a host name (an address, a bad label) is skipped as Postfix does. No MX record: the domain
 *    itself is the one host (the implicit MX). A single "." exchange is a null MX (RFC 7505): the
 *    domain takes no mail, a permanent failure.
 * 2. The transport then asks `addressesOf` for each host's addresses when it gets to that host.
 * 3. `mxMatchesPolicy` tells whether an MX host is one an MTA-STS policy names (RFC 8461 §4.1).
 *
 * Deno's node:dns reports both NXDOMAIN and "no record of this type" as ENOTFOUND, so a domain
 * with neither MX nor address records is one failure: "no such domain or no mail host", permanent.
 */
import { isNoRecord } from "../dns/mod.ts";
import type { RecipientResult } from "./types.ts";

/** The look-ups the MX routing needs (src/dns's DnsResolver has them). */
export interface MxResolver {
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  addresses(name: string): Promise<string[]>;
}

/** One host to try, in order. */
export interface MxHost {
  /** The host name, lower case, no trailing dot. */
  name: string;
  /** Its MX preference; -1 for the implicit MX. */
  preference: number;
  /** The addresses when already known (the implicit MX's were looked up to find it). */
  addresses?: string[];
}

/** The hosts of a domain, or why there are none (a result every recipient gets). */
export type MxLookup = { hosts: MxHost[] } | { failure: Omit<RecipientResult, "remoteMta"> };

/** A host name as DNS names a mail host: LDH labels of 1–63 characters, at most 253 in all, not all digits. */
export function isHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  if (!labels.every((l) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(l))) return false;
  // "192.0.2.1" is an address, which an MX must not hold (RFC 5321 §5.1: "a domain name").
  return !/^\d+$/.test(labels[labels.length - 1]);
}

/** Lower case, no trailing dot. */
function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** Shuffles in place (Fisher–Yates); `random` is injectable so tests can fix the order. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** The MX hosts of `domain` in the order to try them, or the failure every recipient gets. */
export async function mxHostsOf(
  resolver: MxResolver,
  domain: string,
  options: { random?: () => number } = {},
): Promise<MxLookup> {
  let records: { exchange: string; priority: number }[];
  try {
    records = await resolver.resolveMx(domain);
  } catch (error) {
    if (!isNoRecord(error)) return { failure: dnsTemporary(domain, "MX", error) };
    return await implicitMx(resolver, domain);
  }
  if (records.length === 0) return await implicitMx(resolver, domain);
  const exchanges = records.map((r) => ({
    name: canonical(String(r.exchange ?? "")),
    preference: r.priority,
  }));
  // RFC 7505 §3: one record, exchange ".", preference 0. node:dns gives the root as "".
  if (exchanges.length === 1 && exchanges[0].name === "" && exchanges[0].preference === 0) {
    return {
      failure: { kind: "permanent", reply: `550 5.1.10 ${domain} accepts no mail (null MX, RFC 7505)` },
    };
  }
  const valid = exchanges.filter((e) =>
    Number.isInteger(e.preference) && e.preference >= 0 && e.preference <= 65535 && isHostName(e.name)
  );
  if (valid.length === 0) {
    const seen = exchanges.map((e) => `${e.preference} ${JSON.stringify(e.name)}`).join(", ");
    return {
      failure: { kind: "temporary", reply: `451 4.4.4 The MX records of ${domain} are malformed: ${seen}` },
    };
  }
  const byPreference = new Map<number, MxHost[]>();
  for (const host of valid) {
    if (!byPreference.has(host.preference)) byPreference.set(host.preference, []);
    // The same host listed twice (at two preferences) is tried once, at its best.
    if (![...byPreference.values()].some((hosts) => hosts.some((h) => h.name === host.name))) {
      byPreference.get(host.preference)!.push(host);
    }
  }
  const random = options.random ?? Math.random;
  const hosts = [...byPreference.keys()].sort((a, b) => a - b)
    .flatMap((preference) => shuffle(byPreference.get(preference)!, random));
  return { hosts };
}

/** No MX: the domain's own addresses are its one host (RFC 5321 §5.1). */
async function implicitMx(resolver: MxResolver, domain: string): Promise<MxLookup> {
  let addresses: string[];
  try {
    addresses = await resolver.addresses(domain);
  } catch (error) {
    return { failure: dnsTemporary(domain, "A/AAAA", error) };
  }
  if (addresses.length === 0) {
    return {
      failure: {
        kind: "permanent",
        reply:
          `550 5.1.2 Domain ${domain} not found: no MX and no A/AAAA record (no such domain or no mail host)`,
      },
    };
  }
  return { hosts: [{ name: canonical(domain), preference: -1, addresses }] };
}

/** The result of a look-up that could not be answered now (SERVFAIL, timeout): try again later. */
function dnsTemporary(domain: string, type: string, error: unknown): Omit<RecipientResult, "remoteMta"> {
  const code = (error as { code?: string })?.code ?? String(error);
  return { kind: "temporary", reply: `451 4.4.3 DNS lookup of ${type} for ${domain} failed: ${code}` };
}

/** The addresses of one host; "no record" is an empty list, other errors are thrown (temporary). */
export async function addressesOf(resolver: MxResolver, host: MxHost): Promise<string[]> {
  if (host.addresses) return host.addresses;
  try {
    return await resolver.addresses(host.name);
  } catch (error) {
    if (isNoRecord(error)) return [];
    throw error;
  }
}

/**
 * Whether `host` matches one of an MTA-STS policy's `mx` patterns (RFC 8461 §4.1): equal ignoring
 * case, or "*.example.net" matching exactly one more leftmost label ("mx.example.net", not
 * "a.b.example.net" nor "example.net").
 */
export function mxMatchesPolicy(host: string, patterns: readonly string[]): boolean {
  const name = canonical(host);
  return patterns.some((raw) => {
    const pattern = canonical(raw);
    if (!pattern.startsWith("*.")) return pattern === name;
    const dot = name.indexOf(".");
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  });
}
