/**
 * The checks behind `postern dns check` (src/dns/check.ts) on records beyond those of a new domain,
 * against dnsmasq: a record type the checker has no code for by name (MTA-STS's v=STSv1 and
 * TLS-RPT's v=TLSRPTv1 TXT records, the mta-sts alias) is compared tag by tag; SPF that fails the
 * mail host's address, a DMARC record without a valid policy, a null MX, a service published as
 * offered that is not, and an alias published as address records.
 */
import assert from "node:assert/strict";
import { checkDnsRecords, DnsResolver } from "../src/dns/mod.ts";
import { type DnsRecord, txt } from "../src/model/dns_records.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { txtOption } from "./dns_check_helpers.ts";
import { skipping } from "./smtp_helpers.ts";

const ignore = !HAS_DNSMASQ && skipping("the DNS record checks", "dnsmasq");

const record = (name: string, type: DnsRecord["type"], value: string): DnsRecord => ({
  name,
  type,
  value,
  ttl: 3600,
  purpose: "test",
});

Deno.test({
  name: "records of any tagged kind are compared tag by tag; SPF, DMARC, MX, SRV and aliases are judged",
  ignore,
  async fn() {
    const dns = await startDnsmasq({}, [
      "--host-record=mail.a.test,127.0.0.1",
      "--host-record=web.a.test,127.0.0.1",
      "--mx-host=a.test,mail.a.test,10",
      "--mx-host=b.test,.,0",
      txtOption("_mta-sts.a.test", ["v=STSv1; id=20261206"]),
      txtOption("_smtp._tls.a.test", ["v=TLSRPTv1; rua=mailto:other@a.test"]),
      txtOption("a.test", ["v=spf1 ip4:192.0.2.1 -all"]),
      txtOption("a.test", ["google-site-verification=x"]),
      txtOption("_dmarc.a.test", ["v=DMARC1; p=maybe"]),
      "--srv-host=_imaps._tcp.a.test,mail.a.test,993,0,1",
      "--cname=mta-sts.a.test,mail.a.test",
      "--host-record=autoconfig.a.test,127.0.0.1",
    ]);
    try {
      const resolver = new DnsResolver({ servers: [dns.server], timeoutMs: 2000, tries: 1 });
      const records = [
        record("a.test.", "MX", "10 mail.a.test."),
        record("_mta-sts.a.test.", "TXT", txt("v=STSv1; id=20261206")),
        record("_smtp._tls.a.test.", "TXT", txt("v=TLSRPTv1; rua=mailto:tls@a.test")),
        record("a.test.", "TXT", txt("v=spf1 mx -all")),
        record("_dmarc.a.test.", "TXT", txt("v=DMARC1; p=quarantine")),
        record("_imaps._tcp.a.test.", "SRV", "0 0 0 ."),
        record("_imap._tcp.a.test.", "SRV", "0 0 0 ."),
        record("mta-sts.a.test.", "CNAME", "mail.a.test."),
        record("autoconfig.a.test.", "CNAME", "mail.a.test."),
        record("autodiscover.a.test.", "CNAME", "web.b.test."),
      ];
      const checks = await checkDnsRecords("a.test", records, resolver);
      const got = checks.map((c) => [c.name, c.type, c.status, c.detail]);
      assert.deepEqual(got, [
        ["a.test.", "MX", "ok", ""],
        ["_mta-sts.a.test.", "TXT", "ok", ""],
        ["_smtp._tls.a.test.", "TXT", "wrong", "expected rua=mailto:tls@a.test"],
        ["a.test.", "TXT", "wrong", "mail from mail.a.test does not pass SPF: fail for 127.0.0.1"],
        ["_dmarc.a.test.", "TXT", "wrong", 'p= must be none, quarantine or reject, not "maybe"'],
        ["_imaps._tcp.a.test.", "SRV", "wrong", "published as offered, but this server does not offer it"],
        ["_imap._tcp.a.test.", "SRV", "ok", "not published: clients find no service either way"],
        ["mta-sts.a.test.", "CNAME", "ok", ""],
        [
          "autoconfig.a.test.",
          "CNAME",
          "ok",
          "address records equal to mail.a.test's (a CNAME is not needed)",
        ],
        ["autodiscover.a.test.", "CNAME", "missing", ""],
      ]);
      // Only the SPF records count as SPF: other TXT records at the name are not reported.
      assert.deepEqual(checks[3].published, ["v=spf1 ip4:192.0.2.1 -all"]);

      const nullMx = await checkDnsRecords("b.test", [record("b.test.", "MX", "10 mail.a.test.")], resolver);
      assert.equal(nullMx[0].status, "wrong", JSON.stringify(nullMx));
      assert.match(nullMx[0].detail, /null MX \(RFC 7505\)/);
    } finally {
      await dns.stop();
    }
  },
});
