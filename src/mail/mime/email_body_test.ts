import assert from "node:assert/strict";
import {
  bodyPartWire,
  bodyValue,
  type EmailBody,
  emailBody,
  hasAttachment,
  partName,
  preview,
  previewOf,
} from "./email_body.ts";
import type { MimePart } from "./parse_mime.ts";

const encode = (text: string) => new TextEncoder().encode(text.replaceAll("\n", "\r\n"));
const types = (parts: MimePart[]) => parts.map((p) => `${p.index}:${p.type}`);
const text = (body: EmailBody, part: MimePart) => bodyValue(body, part).value;

Deno.test("a plain message is one text part: text and HTML bodies both show it", () => {
  const body = emailBody(encode("From: a@x.example\nSubject: hi\n\nHello there\n"));
  assert.deepEqual(types(body.textBody), ["0:text/plain"]);
  assert.deepEqual(types(body.htmlBody), ["0:text/plain"]);
  assert.deepEqual(body.attachments, []);
  assert.equal(text(body, body.textBody[0]), "Hello there\n");
  assert.equal(preview(body), "Hello there");
  assert.equal(hasAttachment(body), false);
});

Deno.test("nested multiparts: alternative inside mixed, an attachment, a message/rfc822 kept whole", () => {
  const body = emailBody(encode(`Content-Type: multipart/mixed; boundary="outer"

preamble is ignored
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=utf-8

Plain café
--inner
Content-Type: text/html; charset=utf-8

<p>HTML caf&eacute;</p>
--inner--
--outer
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: message/rfc822

From: b@x.example
Content-Type: multipart/mixed; boundary=deep

--deep
Content-Type: text/plain

inside the forwarded message
--deep--
--outer--
epilogue is ignored
`));
  assert.deepEqual(types(body.textBody), ["2:text/plain"]);
  assert.deepEqual(types(body.htmlBody), ["3:text/html"]);
  assert.deepEqual(types(body.attachments), ["4:application/pdf", "5:message/rfc822"]);
  assert.equal(partName(body.attachments[0]), "Résumé.pdf");
  assert.equal(body.attachments[1].subParts, null, "a forwarded message is one leaf part");
  assert.equal(text(body, body.textBody[0]), "Plain café");
  assert.equal(text(body, body.htmlBody[0]), "<p>HTML caf&eacute;</p>");
  assert.equal(hasAttachment(body), true);
  const pdf = bodyPartWire(body, body.attachments[0], {
    properties: ["partId", "size", "type", "disposition"],
    blobId: () => "",
  });
  assert.deepEqual(pdf, { partId: "4", size: 9, type: "application/pdf", disposition: "attachment" });
});

Deno.test("multipart/related: the first part is the body, the images attachments; HTML only shows in text too", () => {
  const body = emailBody(encode(`Content-Type: multipart/related; boundary=r

--r
Content-Type: text/html

<img src="cid:logo">Hi
--r
Content-Type: image/png
Content-ID: <logo>
Content-Disposition: inline

PNG
--r--
`));
  assert.deepEqual(types(body.htmlBody), ["1:text/html"]);
  assert.deepEqual(types(body.textBody), ["1:text/html"]);
  assert.deepEqual(types(body.attachments), ["2:image/png"]);
  assert.equal(hasAttachment(body), false, "an inline image is not offered as a download");
  assert.equal(preview(body), "Hi");
  const image = bodyPartWire(body, body.attachments[0], {
    properties: ["cid", "disposition"],
    blobId: () => "",
  });
  assert.deepEqual(image, { cid: "logo", disposition: "inline" });
});

Deno.test("broken structure: no boundary parameter, no closing boundary, a boundary in text", () => {
  const noBoundary = emailBody(encode("Content-Type: multipart/mixed\n\njust text\n"));
  assert.equal(noBoundary.root.type, "text/plain");
  assert.equal(text(noBoundary, noBoundary.textBody[0]), "just text\n");

  const unclosed = emailBody(encode(`Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

first
--b
Content-Type: text/plain

second, never closed
--b-not-a-boundary
still second`));
  assert.deepEqual(unclosed.root.subParts!.map((p) => text(unclosed, p)), [
    "first",
    "second, never closed\n--b-not-a-boundary\nstill second",
  ]);
});

Deno.test("headers: 8-bit bytes that are not UTF-8 become U+FFFD; duplicates all kept; lines without a colon skipped", () => {
  const head = new Uint8Array([
    ...new TextEncoder().encode("Subject: caf"),
    0xe9,
    ...new TextEncoder().encode("\r\n"),
  ]);
  const rest = encode(
    "X-Dup: one\nX-Dup: two\nthis line is garbage\nX-Long: " + "a".repeat(20_000) + "\n\nbody",
  );
  const body = emailBody(new Uint8Array([...head, ...rest]));
  const headers = body.root.headers;
  assert.deepEqual(headers.map((h) => h.name), ["Subject", "X-Dup", "X-Dup", "X-Long"]);
  assert.equal(headers[0].value, " caf\ufffd");
  assert.equal(headers[3].value.length, 20_001);
  assert.equal(text(body, body.root), "body");
});

Deno.test("charsets: declared ones decoded, unknown ones flagged, mislabelled 8-bit read as Windows-1252", () => {
  const latin = emailBody(
    new Uint8Array([...encode("Content-Type: text/plain; charset=iso-8859-1\n\n"), 0x63, 0x61, 0x66, 0xe9]),
  );
  assert.deepEqual(bodyValue(latin, latin.root), {
    value: "café",
    isEncodingProblem: false,
    isTruncated: false,
  });
  const unknown = emailBody(encode("Content-Type: text/plain; charset=x-klingon\n\nqapla'"));
  assert.deepEqual(bodyValue(unknown, unknown.root), {
    value: "qapla'",
    isEncodingProblem: true,
    isTruncated: false,
  });
  const mislabelled = emailBody(new Uint8Array([...encode("Subject: x\n\n"), 0x63, 0x61, 0x66, 0xe9]));
  assert.equal(bodyValue(mislabelled, mislabelled.root).value, "café");
  const badUtf8 = emailBody(
    new Uint8Array([...encode("Content-Type: text/plain; charset=utf-8\n\n"), 0xff, 0x41]),
  );
  assert.deepEqual(bodyValue(badUtf8, badUtf8.root), {
    value: "\ufffdA",
    isEncodingProblem: true,
    isTruncated: false,
  });
});

Deno.test("transfer encodings: quoted-printable with soft breaks, base64 with junk, an unknown encoding flagged", () => {
  const qp = emailBody(
    encode(
      "Content-Transfer-Encoding: quoted-printable\nContent-Type: text/plain; charset=utf-8\n\nCaf=C3=A9 au =\nlait =3D good, 100% =ZZ",
    ),
  );
  assert.deepEqual(bodyValue(qp, qp.root), {
    value: "Café au lait = good, 100% =ZZ",
    isEncodingProblem: true,
    isTruncated: false,
  });
  const b64 = emailBody(encode("Content-Transfer-Encoding: base64\n\nSGVs\nbG8g*d29y\nbGQ=\n"));
  assert.equal(bodyValue(b64, b64.root).value, "Hello world");
  const uu = emailBody(encode("Content-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n"));
  assert.equal(bodyValue(uu, uu.root).isEncodingProblem, true);
});

Deno.test("a body value cut at maxBodyValueBytes ends on a whole character", () => {
  const body = emailBody(encode("Content-Type: text/plain; charset=utf-8\n\naé日本"));
  assert.deepEqual(bodyValue(body, body.root, 4), {
    value: "aé",
    isEncodingProblem: false,
    isTruncated: true,
  });
  assert.deepEqual(bodyValue(body, body.root, 100).isTruncated, false);
});

Deno.test("the preview collapses whitespace and stops at 256 characters; HTML is read as text", () => {
  const long = emailBody(encode("\n" + "word ".repeat(200)));
  assert.equal([...preview(long)].length, 256);
  const html = emailBody(
    encode(
      "Content-Type: text/html\n\n<style>p{}</style><p>Hello&nbsp;<b>you</b></p><p>there &amp; &#x263A;</p>",
    ),
  );
  assert.equal(preview(html), "Hello you there & ☺");
});

Deno.test("previewOf: every kind of white space collapses to one space, ends trimmed, characters not code units", () => {
  assert.equal(previewOf(" \t\r\n a\u00a0\u2003 b\u3000\ufeff\n"), "a b");
  assert.equal(previewOf("x\u200by"), "x\u200by"); // a zero-width space is not white space
  // 255 characters and a space: the space is the 256th and is kept, as it would be in the middle.
  assert.equal(previewOf("a".repeat(255) + "   b"), "a".repeat(255) + " ");
  // Astral characters count once and are never split.
  const emoji = previewOf("😀".repeat(300));
  assert.equal([...emoji].length, 256);
  assert.equal(emoji, "😀".repeat(256));
});

Deno.test("deep nesting and thousands of parts stay within the limits instead of exhausting the stack", () => {
  let nested = "";
  for (let i = 0; i < 100; i++) nested += `Content-Type: multipart/mixed; boundary=b${i}\n\n--b${i}\n`;
  const deep = emailBody(encode(nested + "\ninnermost"));
  let depth = 0;
  for (let part: MimePart | undefined = deep.root; part?.subParts; part = part.subParts[0]) depth++;
  assert.ok(depth <= 20, `depth ${depth}`);
  const many = emailBody(
    encode("Content-Type: multipart/mixed; boundary=m\n\n" + "--m\n\nx\n".repeat(5000) + "--m--\n"),
  );
  assert.ok(many.root.subParts!.length < 2000);
});
