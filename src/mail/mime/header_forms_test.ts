import assert from "node:assert/strict";
import { asAddresses, asDate, asGroupedAddresses, asMessageIds, asText, asURLs } from "./header_forms.ts";

Deno.test("Text: folding removed, trimmed, encoded words decoded (RFC 2047), NFC", () => {
  assert.equal(asText(" =?ISO-8859-1?Q?Andr=E9?=\r\n Pirard "), "André Pirard");
  assert.equal(asText(" =?utf-8?B?5pel5pys?= =?utf-8?B?6Kqe?="), "日本語", "adjacent words join");
  assert.equal(asText(" Cafe\u0301"), "Café", "NFC");
  assert.equal(asText(" =?x-unknown?Q?abc?="), "abc");
  assert.equal(asText(" not =?encoded"), "not =?encoded");
});

Deno.test("Addresses: every address with its decoded name; groups flattened", () => {
  assert.deepEqual(asAddresses(' "Doe, John" <john@example.org>, jane@example.org'), [
    { name: "Doe, John", email: "john@example.org" },
    { name: null, email: "jane@example.org" },
  ]);
  assert.deepEqual(asAddresses(" Team: a@b.example, =?utf-8?Q?J=C3=BCrgen?= <j@k.example>;, c@d.example"), [
    { name: null, email: "a@b.example" },
    { name: "Jürgen", email: "j@k.example" },
    { name: null, email: "c@d.example" },
  ]);
  assert.deepEqual(asAddresses(" undisclosed-recipients:;"), []);
  assert.deepEqual(asAddresses(""), []);
});

Deno.test("GroupedAddresses: named groups kept; addresses outside groups gathered under null", () => {
  assert.deepEqual(asGroupedAddresses(" a@x.example, Team: b@x.example;, c@x.example, d@x.example"), [
    { name: null, addresses: [{ name: null, email: "a@x.example" }] },
    { name: "Team", addresses: [{ name: null, email: "b@x.example" }] },
    { name: null, addresses: [{ name: null, email: "c@x.example" }, { name: null, email: "d@x.example" }] },
  ]);
  assert.deepEqual(asGroupedAddresses(" undisclosed-recipients:;"), [
    { name: "undisclosed-recipients", addresses: [] },
  ]);
});

Deno.test("MessageIds: ids without brackets, folded lists too; null when there is none", () => {
  assert.deepEqual(asMessageIds(" <a@b.example>\r\n <c.d@e.example>"), ["a@b.example", "c.d@e.example"]);
  assert.deepEqual(asMessageIds(" bare@id.example"), ["bare@id.example"]);
  assert.equal(asMessageIds(" no ids here"), null);
});

Deno.test("Date: RFC 5322 dates with their own offset; obsolete zones; null when unreadable", () => {
  assert.equal(asDate(" Thu, 30 Oct 2014 14:12:00 +0800"), "2014-10-30T14:12:00+08:00");
  assert.equal(asDate(" 1 Jan 2026 00:00:00 -0330 (NST)"), "2026-01-01T00:00:00-03:30");
  assert.equal(asDate(" Mon, 2 Feb 98 10:20 EST"), "1998-02-02T10:20:00-05:00");
  assert.equal(asDate(" Tue, 03 Mar 2026 09:08:07 GMT"), "2026-03-03T09:08:07Z");
  assert.equal(asDate(" 31 Feb 2026 10:00:00 +0000"), null);
  assert.equal(asDate(" yesterday"), null);
});

Deno.test("URLs: the bracketed URLs of a List-* value, or null", () => {
  assert.deepEqual(asURLs(" <mailto:list@x.example?subject=unsubscribe>,\r\n <https://x.example/u>"), [
    "mailto:list@x.example?subject=unsubscribe",
    "https://x.example/u",
  ]);
  assert.equal(asURLs(" https://x.example"), null);
});
