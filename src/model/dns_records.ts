/**
 * The DNS records a mail domain needs, as data: MX, SPF, DMARC, DKIM, MTA-STS and TLS-RPT, the
 * RFC 6186 SRV records that point mail clients at submission (and IMAP, "." while it is not
 * offered), and the autoconfig / autodiscover names. `postern dns DOMAIN`, the TUI's domain view
 * and the DnsRecords action print them; the mail-client configuration documents
 * (src/http/autoconfig.ts) and the MTA-STS policy (src/api/mta_sts.ts) use the same endpoints.
 */
import { publishedMtaStsPolicy } from "./mta_sts.ts";
import type { MtaStsMode } from "./types.ts";

/** Where mail clients and other servers reach this server's mail, as published. */
export interface MailEndpoints {
  /**
   * The public host name of the mail service: the MX target and the clients' server name;
   * undefined: each mail domain's own name.
   */
  mailHost?: string;
  /** Submission with STARTTLS (RFC 6409, usually 587); undefined: not offered. */
  submissionPort?: number;
  /** Submission over implicit TLS (RFC 8314, usually 465); undefined: not offered. */
  submissionsPort?: number;
  /** IMAP with STARTTLS and over implicit TLS; undefined until IMAP is served. */
  imapPort?: number;
  imapsPort?: number;
}

/** One resource record. */
export interface DnsRecord {
  /** Owner name, fully qualified with the final dot. */
  name: string;
  type: "MX" | "TXT" | "SRV" | "CNAME";
  ttl: number;
  /** The record data as a zone file writes it (TXT already quoted). */
  value: string;
  /** What the record is for, one line. */
  purpose: string;
}

const TTL = 3600;

/** A DKIM public key as published (RFC 6376 §3.6.1); retired keys stay until the operator removes them. */
export interface PublishedDkimKey {
  selector: string;
  algorithm: "ed25519" | "rsa";
  /** The p= value, base64. */
  publicKey: string;
  /** Whether it signs now. */
  active: boolean;
}

/**
 * The records `domain` needs for this server's `endpoints`, the domain's DKIM keys and the mode of
 * its MTA-STS policy.
 */
export function dnsRecords(
  domain: string,
  endpoints: MailEndpoints,
  dkimKeys: readonly PublishedDkimKey[] = [],
  mtaStsMode: MtaStsMode = "testing",
): DnsRecord[] {
  const zone = `${domain}.`;
  const host = `${endpoints.mailHost ?? domain}.`;
  const record = (name: string, type: DnsRecord["type"], value: string, purpose: string): DnsRecord => ({
    name,
    type,
    ttl: TTL,
    value,
    purpose,
  });
  const srv = (service: string, port: number | undefined, what: string) =>
    port === undefined
      ? record(`_${service}._tcp.${zone}`, "SRV", "0 0 0 .", `${what}: not offered (RFC 6186 §3.4)`)
      : record(`_${service}._tcp.${zone}`, "SRV", `0 1 ${port} ${host}`, `${what} (RFC 6186)`);
  return [
    record(zone, "MX", `10 ${host}`, "Mail for the domain is delivered to this server"),
    record(zone, "TXT", txt("v=spf1 mx -all"), "SPF: only the domain's MX hosts send its mail"),
    record(
      `_dmarc.${zone}`,
      "TXT",
      txt(`v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}`),
      "DMARC: failing mail is quarantined; aggregate reports go to postmaster",
    ),
    ...dkimKeys.map((k) =>
      record(
        `${k.selector}._domainkey.${zone}`,
        "TXT",
        txt(`v=DKIM1; k=${k.algorithm}; p=${k.publicKey}`),
        `DKIM: ${k.algorithm === "rsa" ? "RSA-2048" : "Ed25519"} public key, ${
          k.active
            ? "signing now"
            : "retired, kept for mail signed before (delete it when that has been read)"
        }`,
      )
    ),
    record(
      `_mta-sts.${zone}`,
      "TXT",
      txt(`v=STSv1; id=${publishedMtaStsPolicy(mtaStsMode, endpoints.mailHost ?? domain).id}`),
      `MTA-STS (RFC 8461): a policy in mode ${mtaStsMode} is published; the id changes with it`,
    ),
    record(
      `mta-sts.${zone}`,
      "CNAME",
      host,
      `MTA-STS: senders fetch the policy over HTTPS here; the certificate must name mta-sts.${domain}`,
    ),
    record(
      `_smtp._tls.${zone}`,
      "TXT",
      txt(`v=TLSRPTv1; rua=mailto:postmaster@${domain}`),
      "TLS-RPT (RFC 8460): senders' daily TLS reports go to postmaster",
    ),
    srv("submission", endpoints.submissionPort, "Mail clients send with STARTTLS"),
    srv("submissions", endpoints.submissionsPort, "Mail clients send over TLS"),
    srv("imap", endpoints.imapPort, "Mail clients read with IMAP"),
    srv("imaps", endpoints.imapsPort, "Mail clients read with IMAP over TLS"),
    record(`autoconfig.${zone}`, "CNAME", host, "Thunderbird finds its settings here"),
    record(`autodiscover.${zone}`, "CNAME", host, "Outlook finds its settings here"),
  ];
}

/** A TXT record's data: quoted strings of at most 255 bytes each (RFC 1035 §3.3.14). */
export function txt(text: string): string {
  const parts: string[] = [];
  for (let i = 0; i < text.length || parts.length === 0; i += 255) parts.push(text.slice(i, i + 255));
  return parts.map((p) => `"${p.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(" ");
}

/** The text of a TXT record's data (the inverse of {@link txt}): its quoted strings, unescaped and joined. */
export function txtText(value: string): string {
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, "$1")).join("");
}

/** The records as zone-file lines, each after a comment saying what it is for. */
export function zoneFile(records: readonly DnsRecord[]): string {
  return records.map((r) => `; ${r.purpose}\n${r.name}\t${r.ttl}\tIN\t${r.type}\t${r.value}\n`).join("");
}
