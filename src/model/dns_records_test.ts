import assert from "node:assert/strict";
import { dnsRecords, txt, zoneFile } from "./dns_records.ts";
import { publishedMtaStsPolicy } from "./mta_sts.ts";

Deno.test("a domain's records point at the mail host, with SRV ports and '.' for what is not offered", () => {
  const records = dnsRecords("example.org", { mailHost: "mx.example.net", submissionPort: 587 });
  const lines = zoneFile(records).split("\n").filter((l) => l && !l.startsWith(";"));
  const { id } = publishedMtaStsPolicy("testing", "mx.example.net");
  assert.deepEqual(lines, [
    "example.org.\t3600\tIN\tMX\t10 mx.example.net.",
    'example.org.\t3600\tIN\tTXT\t"v=spf1 mx -all"',
    '_dmarc.example.org.\t3600\tIN\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org"',
    `_mta-sts.example.org.\t3600\tIN\tTXT\t"v=STSv1; id=${id}"`,
    "mta-sts.example.org.\t3600\tIN\tCNAME\tmx.example.net.",
    '_smtp._tls.example.org.\t3600\tIN\tTXT\t"v=TLSRPTv1; rua=mailto:postmaster@example.org"',
    "_submission._tcp.example.org.\t3600\tIN\tSRV\t0 1 587 mx.example.net.",
    "_submissions._tcp.example.org.\t3600\tIN\tSRV\t0 0 0 .",
    "_imap._tcp.example.org.\t3600\tIN\tSRV\t0 0 0 .",
    "_imaps._tcp.example.org.\t3600\tIN\tSRV\t0 0 0 .",
    "autoconfig.example.org.\t3600\tIN\tCNAME\tmx.example.net.",
    "autodiscover.example.org.\t3600\tIN\tCNAME\tmx.example.net.",
  ]);
  assert.ok(records.every((r) => r.purpose.length > 0));
});

Deno.test("without a mail host a domain's records name the domain itself", () => {
  const [mx] = dnsRecords("example.org", {});
  assert.equal(mx.value, "10 example.org.");
});

Deno.test("TXT data is quoted, escaped and split into strings of at most 255 characters", () => {
  assert.equal(txt('a "b" \\c'), '"a \\"b\\" \\\\c"');
  assert.equal(txt(""), '""');
  const long = txt("x".repeat(300));
  assert.equal(long, `"${"x".repeat(255)}" "${"x".repeat(45)}"`);
});

Deno.test("the published MTA-STS policy names the mail host, and its id changes with the mode or the host only", () => {
  const policy = publishedMtaStsPolicy("enforce", "MX.Example.NET.");
  assert.equal(policy.text, "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 604800\n");
  assert.match(policy.id, /^[0-9a-f]{20}$/);
  assert.equal(publishedMtaStsPolicy("enforce", "mx.example.net").id, policy.id);
  assert.notEqual(publishedMtaStsPolicy("testing", "mx.example.net").id, policy.id);
  assert.notEqual(publishedMtaStsPolicy("enforce", "mx2.example.net").id, policy.id);
  const txtOf = (mode: "enforce" | "none") =>
    dnsRecords("example.org", { mailHost: "mx.example.net" }, [], mode).find((r) =>
      r.name === "_mta-sts.example.org."
    );
  assert.equal(txtOf("enforce")?.value, `"v=STSv1; id=${policy.id}"`);
  assert.notEqual(txtOf("none")?.value, txtOf("enforce")?.value);
});
