/**
 * `postern dns check`: each record the domain needs (src/model/dns_records.ts) looked up through the
 * resolver and judged ok, missing or wrong. The judgement is chosen by the record's type and, for
 * TXT, by its version tag (v=spf1, v=DMARC1, v=DKIM1; any other tagged record, such as MTA-STS's
 * v=STSv1 or TLS-RPT's v=TLSRPTv1, is compared tag by tag), so a record added to the list is checked
 * with no code here. A look-up that gets no answer (time-out, refused, SERVFAIL) is an `error`:
 * nothing can be said about that record.
 */
import type { DnsRecord } from "../model/dns_records.ts";
import { txtText } from "../model/dns_records.ts";
import type { DnsResolver } from "./resolver.ts";
import { bare, type CheckContext, describe, orNone, type RecordCheck, type Verdict } from "./check_common.ts";
import { checkTxt } from "./check_txt.ts";

export type { CheckStatus, RecordCheck } from "./check_common.ts";

/** Checks every record of `records` (the DnsRecords of `domain`) against what `resolver` answers. */
export async function checkDnsRecords(
  domain: string,
  records: readonly DnsRecord[],
  resolver: DnsResolver,
): Promise<RecordCheck[]> {
  const mx = records.find((r) => r.type === "MX");
  const mailHost = bare(mx?.value.split(/\s+/)[1] ?? domain);
  const context: CheckContext = { domain: bare(domain), mailHost, resolver };
  return await Promise.all(records.map(async (record) => {
    let verdict: Verdict;
    try {
      verdict = await judge(record, context);
    } catch (error) {
      verdict = { status: "error", published: [], detail: `no answer: ${describe(error)}` };
    }
    return {
      name: record.name,
      type: record.type,
      purpose: record.purpose,
      expected: record.value,
      ...verdict,
    };
  }));
}

function judge(record: DnsRecord, context: CheckContext): Promise<Verdict> {
  switch (record.type) {
    case "MX":
      return checkMx(record, context);
    case "TXT":
      return checkTxt(record.name, txtText(record.value), context);
    case "SRV":
      return checkSrv(record, context);
    case "CNAME":
      return checkCname(record, context);
    default:
      return Promise.resolve({
        status: "error",
        published: [],
        detail: `records of type ${(record as DnsRecord).type} cannot be checked yet`,
      });
  }
}

/** MX: one of the domain's MX hosts is the mail host; a null MX (RFC 7505) refuses all mail. */
async function checkMx(record: DnsRecord, { mailHost, resolver }: CheckContext): Promise<Verdict> {
  const found = await orNone(resolver.resolveMx(bare(record.name)));
  const published = found.map((m) => `${m.priority} ${m.exchange || "."}${m.exchange ? "." : ""}`);
  if (!found.length) {
    return { status: "missing", published, detail: "no MX record: mail cannot find this server" };
  }
  if (found.some((m) => bare(m.exchange) === "")) {
    return {
      status: "wrong",
      published,
      detail: "a null MX (RFC 7505): the domain says it receives no mail",
    };
  }
  const ours = found.filter((m) => bare(m.exchange) === mailHost);
  if (!ours.length) return { status: "wrong", published, detail: `no MX points at ${mailHost}` };
  const others = found.filter((m) => bare(m.exchange) !== mailHost).map((m) => m.exchange);
  return { status: "ok", published, detail: others.length ? `also published: ${others.join(", ")}` : "" };
}

/** SRV: the port and target of RFC 6186; a service not offered may be absent or published with target ".". */
async function checkSrv(record: DnsRecord, { resolver }: CheckContext): Promise<Verdict> {
  const [, , port, target] = record.value.split(/\s+/);
  const offered = bare(target) !== "";
  const found = await orNone(resolver.resolve(bare(record.name), "SRV") as Promise<Srv[]>);
  const published = found.map((s) =>
    `${s.priority} ${s.weight} ${s.port} ${s.name || "."}${s.name ? "." : ""}`
  );
  if (!offered) {
    if (found.every((s) => bare(s.name) === "")) {
      return {
        status: "ok",
        published,
        detail: found.length ? "" : "not published: clients find no service either way",
      };
    }
    return { status: "wrong", published, detail: "published as offered, but this server does not offer it" };
  }
  if (!found.length) return { status: "missing", published, detail: "" };
  if (found.some((s) => bare(s.name) === bare(target) && String(s.port) === port)) {
    return { status: "ok", published, detail: "" };
  }
  return { status: "wrong", published, detail: `expected port ${port} on ${bare(target)}` };
}

interface Srv {
  priority: number;
  weight: number;
  port: number;
  name: string;
}

/** CNAME: an alias of the target, or address records equal to the target's. */
async function checkCname(record: DnsRecord, { resolver }: CheckContext): Promise<Verdict> {
  const name = bare(record.name);
  const target = bare(record.value);
  const aliases = await orNone(resolver.resolve(name, "CNAME") as Promise<string[]>);
  if (aliases.length) {
    const published = aliases.map((a) => `${bare(a)}.`);
    return aliases.some((a) => bare(a) === target)
      ? { status: "ok", published, detail: "" }
      : { status: "wrong", published, detail: `an alias of ${aliases.join(", ")}, not of ${target}` };
  }
  const [own, theirs] = await Promise.all([resolver.addresses(name), resolver.addresses(target)]);
  const published = own.map((a) => `${a.includes(":") ? "AAAA" : "A"} ${a}`);
  if (!own.length) return { status: "missing", published, detail: "" };
  const same = own.length === theirs.length && own.every((a) => theirs.includes(a));
  return same
    ? { status: "ok", published, detail: `address records equal to ${target}'s (a CNAME is not needed)` }
    : {
      status: "wrong",
      published,
      detail: `addresses differ from ${target}'s (${theirs.join(", ") || "none"})`,
    };
}
