import assert from "node:assert/strict";
import { dnsRecords, txt, zoneFile } from "./dns_records.ts";

Deno.test("a domain's records point at the mail host, with SRV ports and '.' for what is not offered", () => {
  const records = dnsRecords("example.org", { mailHost: "mx.example.net", submissionPort: 587 });
  const lines = zoneFile(records).split("\n").filter((l) => l && !l.startsWith(";"));
  assert.deepEqual(lines, [
    "example.org.\t3600\tIN\tMX\t10 mx.example.net.",
    'example.org.\t3600\tIN\tTXT\t"v=spf1 mx -all"',
    '_dmarc.example.org.\t3600\tIN\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org"',
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
