/**
 * FETCH renderings, behaviour by behaviour (RFC 9051 §6.4.5, §7.5.2; RFC 3516), on small messages
 * written here. The whole corpus is compared with Dovecot in test/imap_render_dovecot_test.ts.
 */
import assert from "node:assert/strict";
import type { FetchItem, ResponseValue } from "../command.ts";
import { ImapMessage, renderFetchItem } from "./mod.ts";
import { parseAddressList } from "./address_list.ts";

const crlf = (text: string) => new TextEncoder().encode(text.replaceAll("\n", "\r\n"));
const decode = (value: ResponseValue) => new TextDecoder().decode((value as { bytes: Uint8Array }).bytes);

function render(raw: Uint8Array | string, item: FetchItem) {
  const rendered = renderFetchItem(new ImapMessage(typeof raw === "string" ? crlf(raw) : raw), item);
  assert.ok(rendered?.ok, `${item.kind} renders`);
  return rendered;
}

const NESTED = `From: a@example.org
Subject: outer
Content-Type: multipart/mixed; boundary=o

--o
Content-Type: text/plain

first
--o
Content-Type: message/rfc822

Subject: inner
Content-Type: multipart/alternative; boundary=i

--i
Content-Type: text/plain

inner plain
--i
Content-Type: text/html

<p>inner</p>
--i--
--o--
`;

Deno.test("part numbers follow §6.4.5: multipart children, then into an encapsulated message", () => {
  const body = (part: number[], text?: "HEADER" | "TEXT" | "MIME") =>
    decode(render(NESTED, { kind: "BODY[]", peek: true, section: { part, text } }).value);
  assert.equal(body([1]), "first");
  assert.equal(body([2, 1]), "inner plain");
  assert.equal(body([2, 2]), "<p>inner</p>");
  assert.equal(body([2, 2], "MIME"), "Content-Type: text/html\r\n\r\n");
  assert.equal(
    body([2], "HEADER"),
    "Subject: inner\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n",
  );
  assert.ok(body([2], "TEXT").startsWith("--i\r\n"));
  assert.equal(body([2], "MIME"), "Content-Type: message/rfc822\r\n\r\n");
  assert.equal(body([3]), "", "a part that does not exist is empty");
  assert.equal(body([1], "HEADER"), "", "HEADER of a part that is no message is empty");
});

Deno.test("a message that is no multipart has its body as part 1, and its header as 1.MIME", () => {
  const raw = "Subject: plain\n\nhello\n";
  const body = (part: number[], text?: "MIME") =>
    decode(render(raw, { kind: "BODY[]", peek: true, section: { part, text } }).value);
  assert.equal(body([1]), "hello\r\n");
  assert.equal(body([1], "MIME"), "Subject: plain\r\n\r\n");
  assert.equal(body([1, 1]), "");
  assert.equal(body([2]), "");
});

Deno.test("HEADER.FIELDS keeps the named fields in message order; .NOT keeps the others; names in capitals", () => {
  const raw = "From: a@example.org\nSubject: s\nX-Folded: one\n two\nTo: b@example.org\n\nbody\n";
  const fields = render(raw, {
    kind: "BODY[]",
    peek: true,
    section: { part: [], text: "HEADER.FIELDS", fields: ["to", "x-folded", "X-Absent"] },
  });
  assert.equal(fields.name, "BODY[HEADER.FIELDS (TO X-FOLDED X-ABSENT)]");
  assert.equal(decode(fields.value), "X-Folded: one\r\n two\r\nTo: b@example.org\r\n\r\n");
  const not = render(raw, {
    kind: "BODY[]",
    peek: true,
    section: { part: [], text: "HEADER.FIELDS.NOT", fields: ["subject"] },
  });
  assert.equal(
    decode(not.value),
    "From: a@example.org\r\nX-Folded: one\r\n two\r\nTo: b@example.org\r\n\r\n",
  );
});

Deno.test("a partial fetch answers with its origin only, and past the end with nothing", () => {
  const raw = "Subject: partial\n\n0123456789\n";
  const part = render(raw, {
    kind: "BODY[]",
    peek: false,
    section: { part: [], text: "TEXT" },
    partial: { offset: 2, length: 3 },
  });
  assert.equal(part.name, "BODY[TEXT]<2>");
  assert.equal(decode(part.value), "234");
  const past = render(raw, {
    kind: "BODY[]",
    peek: true,
    section: { part: [] },
    partial: { offset: 10_000, length: 5 },
  });
  assert.equal(past.name, "BODY[]<10000>");
  assert.equal(decode(past.value), "");
});

Deno.test("BINARY decodes base64 and quoted-printable; an unknown encoding is NO [UNKNOWN-CTE]", () => {
  const raw = `Content-Type: multipart/mixed; boundary=b

--b
Content-Transfer-Encoding: base64

AAEC/w==
--b
Content-Transfer-Encoding: quoted-printable

caf=C3=A9=
!
--b
Content-Transfer-Encoding: x-uuencode

begin
--b--
`;
  const first = render(raw, { kind: "BINARY[]", peek: true, part: [1] });
  assert.deepEqual(first.value, { bytes: new Uint8Array([0, 1, 2, 255]), binary: true });
  assert.deepEqual(render(raw, { kind: "BINARY.SIZE", part: [1] }).value, 4);
  assert.equal(decode(render(raw, { kind: "BINARY[]", peek: true, part: [2] }).value), "café!");
  const unknown = renderFetchItem(new ImapMessage(crlf(raw)), { kind: "BINARY[]", peek: true, part: [3] });
  assert.deepEqual(unknown, {
    ok: false,
    code: { name: "UNKNOWN-CTE" },
    text: "Unknown Content-Transfer-Encoding",
  });
  const size = renderFetchItem(new ImapMessage(crlf(raw)), { kind: "BINARY.SIZE", part: [3] });
  assert.equal(size?.ok, false);
});

Deno.test("a NUL is served as 0x80 by BODY[] and as itself by BINARY[] (literal8)", () => {
  const raw = new Uint8Array([...crlf("Subject: nul\n\na"), 0, ...crlf("b\n")]);
  const body = render(raw, { kind: "BODY[]", peek: true, section: { part: [1] } }).value as {
    bytes: Uint8Array;
  };
  assert.deepEqual([...body.bytes], [97, 0x80, 98, 13, 10]);
  assert.deepEqual(render(raw, { kind: "BINARY[]", peek: true, part: [1] }).value, {
    bytes: new Uint8Array([97, 0, 98, 13, 10]),
    binary: true,
  });
});

Deno.test("bare LF line endings are served as CRLF, and sizes count the CRLF octets", () => {
  const raw = new TextEncoder().encode("Subject: lf\n\none\ntwo\n");
  const message = new ImapMessage(raw);
  assert.equal(message.size, raw.length + 4);
  assert.deepEqual(renderFetchItem(message, { kind: "RFC822.SIZE" }), {
    ok: true,
    name: "RFC822.SIZE",
    value: raw.length + 4,
  });
  assert.equal(decode(render(raw, { kind: "RFC822" }).value), "Subject: lf\r\n\r\none\r\ntwo\r\n");
  const structure = render(raw, { kind: "BODY" }).value;
  assert.deepEqual(structure, ["text", "plain", ["charset", "us-ascii"], null, null, "7bit", 10, 2]);
});

Deno.test("ENVELOPE keeps values as sent; sender and reply-to default to from; 8-bit values are literals", () => {
  const raw = new Uint8Array([
    ...crlf("Date: Mon, 7 Dec 2026 10:00:00 +0000\nSubject: =?utf-8?q?caf=C3=A9?=\n folded\n"),
    ...new TextEncoder().encode("From: Zoë <zoe@example.org>\r\nMessage-ID: <m@x>\r\n\r\n"),
  ]);
  const value = render(raw, { kind: "ENVELOPE" }).value as ResponseValue[];
  assert.equal(value[0], "Mon, 7 Dec 2026 10:00:00 +0000");
  assert.equal(value[1], "=?utf-8?q?caf=C3=A9?= folded");
  const from = value[2] as ResponseValue[][];
  assert.deepEqual(from[0][0], { bytes: new TextEncoder().encode("Zoë") });
  assert.deepEqual(from[0].slice(1), [null, "zoe", "example.org"]);
  assert.deepEqual(value[3], value[2]);
  assert.deepEqual(value[4], value[2]);
  assert.deepEqual(value.slice(5), [null, null, null, null, "<m@x>"]);
});

Deno.test("address lists: groups, routes, comments as names, and Dovecot's placeholders", () => {
  assert.deepEqual(parseAddressList('Team: "A, B" <ab@x.org>, c@x.org;, d@x.org (Dee)'), [
    { name: null, adl: null, mailbox: "Team", host: null },
    { name: "A, B", adl: null, mailbox: "ab", host: "x.org" },
    { name: null, adl: null, mailbox: "c", host: "x.org" },
    { name: null, adl: null, mailbox: null, host: null },
    { name: "Dee", adl: null, mailbox: "d", host: "x.org" },
  ]);
  assert.deepEqual(parseAddressList("<@r1.org,@r2.org:u@x.org>"), [
    { name: null, adl: "@r1.org,@r2.org", mailbox: "u", host: "x.org" },
  ]);
  assert.deepEqual(parseAddressList("bob@, @x.org"), [
    { name: null, adl: null, mailbox: "bob", host: "MISSING_DOMAIN" },
    { name: null, adl: null, mailbox: "MISSING_MAILBOX", host: "x.org" },
  ]);
  assert.deepEqual(parseAddressList('ok@x.org, "unterminated <u@x.org'), [
    { name: null, adl: null, mailbox: "ok", host: "x.org" },
    { name: null, adl: null, mailbox: "MISSING_MAILBOX", host: "MISSING_DOMAIN" },
  ]);
  assert.deepEqual(parseAddressList(""), []);
});

Deno.test("BODYSTRUCTURE carries the extension data of §7.5.2 and multipart parameters", () => {
  const raw = `Content-Type: multipart/mixed; boundary=b
Content-Language: en

--b
Content-Type: application/pdf; name="r.pdf"
Content-ID: <id@x>
Content-Description: report
Content-Transfer-Encoding: base64
Content-MD5: bWQ1
Content-Disposition: attachment; filename=r.pdf
Content-Language: de, fr
Content-Location: http://x.org/r.pdf

AAAA
--b--
`;
  assert.deepEqual(render(raw, { kind: "BODYSTRUCTURE" }).value, [
    [
      "application",
      "pdf",
      ["name", "r.pdf"],
      "<id@x>",
      "report",
      "base64",
      4,
      "bWQ1",
      ["attachment", ["filename", "r.pdf"]],
      ["de", "fr"],
      "http://x.org/r.pdf",
    ],
    "mixed",
    ["boundary", "b"],
    null,
    ["en"],
    null,
  ]);
  assert.deepEqual(render(raw, { kind: "BODY" }).value, [
    ["application", "pdf", ["name", "r.pdf"], "<id@x>", "report", "base64", 4],
    "mixed",
  ]);
});

Deno.test("items that are not in the message (FLAGS, UID, …) are left to the caller", () => {
  const message = new ImapMessage(crlf("Subject: x\n\ny\n"));
  for (const kind of ["FLAGS", "UID", "INTERNALDATE", "MODSEQ", "EMAILID", "THREADID"] as const) {
    assert.equal(renderFetchItem(message, { kind }), undefined);
  }
});
