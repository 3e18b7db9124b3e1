/**
 * What the DKIM tests share (the smarthost they send through is test/smtp_helpers.ts's): a DNS resolver serving a domain's published records (the DnsRecords action's, parsed back from
 * zone-file strings), and mailauth's verification of a received message against it.
 */
import type { Obj } from "./mail_helpers.ts";

/** The strings of a zone-file TXT value (`"a" "b"` → ["a", "b"]). */
export function txtStrings(value: string): string[] {
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, "$1"));
}

/** A resolver (dns.promises.resolve's shape) answering TXT queries from published records. */
export function resolverOf(records: readonly Obj[]) {
  return (name: string, type: string): Promise<string[][]> => {
    const wanted = `${name.toLowerCase().replace(/\.$/, "")}.`;
    const found = records.filter((r) => r.type === type && String(r.name).toLowerCase() === wanted);
    if (!found.length) {
      return Promise.reject(Object.assign(new Error(`${name} ${type}: not found`), { code: "ENOTFOUND" }));
    }
    return Promise.resolve(found.map((r) => txtStrings(String(r.value))));
  };
}

/** Each DKIM signature's selector, algorithm and mailauth's result for it. */
export async function verifyDkim(
  message: string,
  resolver: ReturnType<typeof resolverOf>,
): Promise<{ selector: string; algorithm: string; result: string; domain: string }[]> {
  const { dkimVerify } = await import("mailauth");
  const verdict = await dkimVerify(Buffer.from(message, "binary"), { resolver }) as {
    results: { selector: string; algo: string; signingDomain: string; status: { result: string } }[];
  };
  return verdict.results.map((r) => ({
    selector: r.selector,
    algorithm: r.algo,
    result: r.status.result,
    domain: r.signingDomain,
  }));
}
