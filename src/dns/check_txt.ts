/**
 * TXT records of `postern dns check`, judged by their version tag: SPF (RFC 7208) is evaluated by
 * mailauth for each address of the mail host and must pass, with one SPF record only (§4.5: two
 * are a permerror); DMARC (RFC 7489) must be one record with a valid policy; DKIM (RFC 6376 §3.6.1)
 * must publish this server's key; any other tagged record (v=STSv1, v=TLSRPTv1…) must equal the
 * expected one tag by tag; an untagged one, text for text.
 */
import { bare, type CheckContext, orNone, type Verdict } from "./check_common.ts";

let mailauth: Promise<typeof import("mailauth")> | undefined;

/** Judges the TXT records at `name` against the expected record text. */
export async function checkTxt(name: string, expected: string, context: CheckContext): Promise<Verdict> {
  const version = versionOf(expected);
  const all = await orNone(context.resolver.resolveTxt(bare(name)));
  const published = version ? all.filter((t) => versionOf(t) === version) : all;
  if (!published.length) return { status: "missing", published, detail: "" };
  switch (version) {
    case "spf1":
      return await checkSpf(published, context);
    case "dmarc1":
      return checkDmarc(published);
    case "dkim1":
      return checkDkim(published, expected);
    case undefined:
      return published.includes(expected)
        ? { status: "ok", published, detail: "" }
        : { status: "wrong", published, detail: "the text differs" };
    default:
      return checkTagged(published, expected);
  }
}

/** SPF: one record, and it passes mail from each address of the mail host. */
async function checkSpf(published: string[], { domain, mailHost, resolver }: CheckContext): Promise<Verdict> {
  if (published.length > 1) {
    return {
      status: "wrong",
      published,
      detail: `${published.length} SPF records: receivers treat that as a permanent error (RFC 7208 §4.5)`,
    };
  }
  const addresses = await resolver.addresses(mailHost);
  if (!addresses.length) {
    return { status: "wrong", published, detail: `${mailHost} has no address, so SPF cannot pass its mail` };
  }
  const { spf } = await (mailauth ??= import("mailauth"));
  const refused: string[] = [];
  for (const ip of addresses) {
    const result = await spf({
      sender: `postmaster@${domain}`,
      ip,
      helo: mailHost,
      mta: mailHost,
      resolver: resolver.resolve as never,
    });
    if (result.status.result !== "pass") refused.push(`${result.status.result} for ${ip}`);
  }
  return refused.length
    ? { status: "wrong", published, detail: `mail from ${mailHost} does not pass SPF: ${refused.join(", ")}` }
    : { status: "ok", published, detail: `passes mail from ${mailHost} (${addresses.join(", ")})` };
}

/** DMARC: one record whose tags parse and whose p= is a policy (RFC 7489 §6.3). */
function checkDmarc(published: string[]): Verdict {
  if (published.length > 1) {
    return {
      status: "wrong",
      published,
      detail: "several DMARC records: receivers apply none (RFC 7489 §6.6.3)",
    };
  }
  const tags = tagList(published[0]);
  if (!tags) return { status: "wrong", published, detail: "the record does not parse as tag=value pairs" };
  const policy = tags.get("p");
  if (!policy || !["none", "quarantine", "reject"].includes(policy.toLowerCase())) {
    return {
      status: "wrong",
      published,
      detail: `p= must be none, quarantine or reject, not "${policy ?? ""}"`,
    };
  }
  return { status: "ok", published, detail: `policy ${policy.toLowerCase()}` };
}

/** DKIM: a record at the selector publishes this server's public key (p=) of the same kind (k=). */
function checkDkim(published: string[], expected: string): Verdict {
  const want = tagList(expected)!;
  const key = (text: string) => (tagList(text)?.get("p") ?? "").replace(/\s+/g, "");
  const kind = (tags: Map<string, string> | undefined) => (tags?.get("k") ?? "rsa").toLowerCase();
  const match = published.find((t) => key(t) === key(expected) && kind(tagList(t)) === kind(want));
  if (match) return { status: "ok", published, detail: "" };
  const revoked = published.some((t) => key(t) === "");
  return {
    status: "wrong",
    published,
    detail: revoked ? "the key is revoked (empty p=)" : "the published key is not this server's key",
  };
}

/** Any other tagged record: one record with every expected tag at its expected value. */
function checkTagged(published: string[], expected: string): Verdict {
  if (published.length > 1) {
    return {
      status: "wrong",
      published,
      detail: `${published.length} records of this kind: there must be one`,
    };
  }
  const want = tagList(expected)!;
  const have = tagList(published[0]);
  if (!have) return { status: "wrong", published, detail: "the record does not parse as tag=value pairs" };
  const differ = [...want].filter(([k, v]) => have.get(k) !== v).map(([k, v]) => `${k}=${v}`);
  return differ.length
    ? { status: "wrong", published, detail: `expected ${differ.join("; ")}` }
    : { status: "ok", published, detail: "" };
}

/** The lowercased value of a record's leading v= tag ("spf1" for SPF's "v=spf1 …"), if it has one. */
function versionOf(text: string): string | undefined {
  return /^\s*v\s*=\s*([A-Za-z0-9]+)/.exec(text)?.[1].toLowerCase();
}

/** A tag=value list (RFC 6376 §3.2), names lowercased, or undefined when a part is not a tag. */
function tagList(text: string): Map<string, string> | undefined {
  const tags = new Map<string, string>();
  for (const part of text.split(";")) {
    if (!part.trim()) continue;
    const match = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*=(.*)$/s.exec(part);
    if (!match) return undefined;
    tags.set(match[1].toLowerCase(), match[2].trim());
  }
  return tags;
}
