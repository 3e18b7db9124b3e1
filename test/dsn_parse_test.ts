/**
 * Reading other servers' delivery reports (parseDsn), from fixtures in test/fixtures/dsn/: a bounce
 * a real Postfix wrote (captured from test/dsn_postfix_test.ts's run), and ones modelled on Gmail's
 * (the report beside a multipart/related explanation, a multi-line Diagnostic-Code, a commented
 * Remote-MTA), Exim's (an ENVID, fields in another order) and Stalwart's (a quoted report-type,
 * delivered, delayed and failed recipients in one report). What is not a report reads as null.
 */
import assert from "node:assert/strict";
import { looksLikeDsn, parseDsn } from "../src/mail/mod.ts";

const fixture = (name: string) => Deno.readFile(new URL(`./fixtures/dsn/${name}.eml`, import.meta.url));
const bytes = (text: string) => new TextEncoder().encode(text.replaceAll("\n", "\r\n"));

Deno.test("a real Postfix bounce: recipient, status, the remote reply and the returned message's id", async () => {
  const message = await fixture("postfix");
  assert.ok(looksLikeDsn(message));
  const dsn = parseDsn(message);
  assert.ok(dsn);
  assert.equal(dsn.reportingMta, "sender.test");
  assert.equal(dsn.originalEnvelopeId, undefined);
  assert.equal(dsn.arrivalDate, "Sun,  6 Dec 2026 21:41:31 +0000 (UTC)");
  assert.equal(dsn.originalMessageId, "<a3456cef-1530-43d4-b579-91c4aec4464b@example.org>");
  assert.deepEqual(dsn.recipients, [{
    finalRecipient: "nobody@elsewhere.test",
    originalRecipient: "nobody@elsewhere.test",
    action: "failed",
    status: "5.1.1",
    remoteMta: "127.0.0.1",
    diagnosticType: "smtp",
    diagnosticCode: "550 5.1.1 <nobody@elsewhere.test>: Recipient address rejected: User unknown",
  }]);
});

Deno.test("a Gmail-style bounce: the report beside a multipart explanation, a folded multi-line reply", async () => {
  const dsn = parseDsn(await fixture("gmail"));
  assert.ok(dsn);
  assert.equal(dsn.reportingMta, "googlemail.com");
  assert.equal(dsn.originalMessageId, "<gmail-case-1@example.org>");
  const [nobody] = dsn.recipients;
  assert.equal(nobody.finalRecipient, "nobody@gmail.com");
  assert.equal(nobody.action, "failed");
  assert.equal(nobody.status, "5.1.1");
  assert.equal(nobody.remoteMta, "gmail-smtp-in.l.google.com");
  assert.match(
    nobody.diagnosticCode!,
    /^550-5\.1\.1 The email account that you tried to reach does not exist\./,
  );
  assert.match(nobody.diagnosticCode!, /- gsmtp$/);
  assert.equal(nobody.lastAttemptDate, "Sun, 06 Dec 2026 02:03:05 -0800 (PST)");
});

Deno.test("an Exim bounce: its Original-Envelope-ID, and a recipient block that starts with Action", async () => {
  const dsn = parseDsn(await fixture("exim"));
  assert.ok(dsn);
  assert.equal(dsn.originalEnvelopeId, "postern-77");
  assert.equal(dsn.originalMessageId, "<exim-case-1@example.org>");
  assert.deepEqual(dsn.recipients, [{
    finalRecipient: "ghost@exim.example",
    action: "failed",
    status: "5.0.0",
    remoteMta: "mx.exim.example",
    diagnosticType: "smtp",
    diagnosticCode: "550 5.1.1 <ghost@exim.example>: User unknown",
  }]);
});

Deno.test("a Stalwart report: delivered, delayed and failed recipients, a quoted report-type", async () => {
  const message = await fixture("stalwart");
  assert.ok(looksLikeDsn(message));
  const dsn = parseDsn(message);
  assert.ok(dsn);
  assert.equal(dsn.reportingMta, "mx.stalwart.example");
  assert.equal(dsn.originalMessageId, "<stalwart-case-1@example.org>");
  assert.deepEqual(
    dsn.recipients.map((r) => [r.finalRecipient, r.action, r.status, r.diagnosticCode ?? null]),
    [
      ["ok@stalwart.example", "delivered", "2.0.0", null],
      ["later@stalwart.example", "delayed", "4.3.0", "451 4.3.0 Mailbox temporarily unavailable"],
      ["gone@stalwart.example", "failed", "5.1.2", "550 5.1.2 Mailbox does not exist"],
    ],
  );
  assert.equal(dsn.recipients[1].willRetryUntil, "Fri, 11 Dec 2026 10:06:39 +0000");
});

Deno.test("what is not a usable report reads as null, never an error (bad input)", async () => {
  const cases: [string, Uint8Array][] = [
    ["plain mail", bytes("From: a@b\nSubject: hi\n\nhello\n")],
    ["empty", new Uint8Array()],
    ["binary noise", crypto.getRandomValues(new Uint8Array(4096))],
    [
      "another report type (a read receipt)",
      bytes(
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\n\n--b\n' +
          "Content-Type: message/disposition-notification\n\nFinal-Recipient: rfc822; x@y\n" +
          "Disposition: manual-action/MDN-sent-manually; displayed\n--b--\n",
      ),
    ],
    [
      "a report without its delivery-status part",
      bytes(
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\n' +
          "Content-Type: text/plain\n\nIt failed.\n--b--\n",
      ),
    ],
    [
      "recipients without the required Action or Status",
      bytes(
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\n' +
          "Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nFinal-Recipient: rfc822; a@b\n" +
          "Action: failed\n\nFinal-Recipient: rfc822; c@d\nStatus: 5.1.1\n\nAction: failed\nStatus: 5.1.1\n--b--\n",
      ),
    ],
    [
      "a report with no boundary",
      bytes("Content-Type: multipart/report; report-type=delivery-status\n\nFinal-Recipient: rfc822; a@b\n"),
    ],
  ];
  for (const [what, message] of cases) assert.equal(parseDsn(message), null, what);
  // Truncated anywhere, a real report still never throws.
  const postfix = await fixture("postfix");
  for (let end = 0; end < postfix.length; end += 97) parseDsn(postfix.subarray(0, end));
});
