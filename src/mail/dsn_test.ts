import assert from "node:assert/strict";
import {
  composeDsn,
  type DsnInput,
  statusOfReply,
  submissionEnvelopeId,
  submissionOfEnvelopeId,
} from "./dsn.ts";
import { parseDsn } from "./dsn_parse.ts";
import { decodeTransfer, lastHeader, messageHeaders, parseMime } from "./mime/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const ORIGINAL = encoder.encode(
  "From: Alice <alice@example.org>\r\nTo: bob@example.net, carol@example.net\r\nSubject: Lunch?\r\n" +
    "Message-ID: <m1@example.org>\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nHi Bob\r\n",
);

const T0 = Date.UTC(2026, 11, 6, 10);

function bounce(overrides: Partial<DsnInput> = {}): DsnInput {
  return {
    action: "failed",
    reportingMta: "mail.example.org",
    sender: "alice@example.org",
    envelopeId: submissionEnvelopeId(42),
    arrivalDate: T0,
    recipients: [{
      address: "bob@example.net",
      originalRecipient: "Bob@example.net",
      result: {
        kind: "permanent",
        reply:
          "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
        remoteMta: "mx.example.net [192.0.2.1]",
      },
      lastAttempt: T0 + 60_000,
    }, {
      address: "carol@example.net",
      result: { kind: "permanent", reply: "554 Transaction failed" },
      lastAttempt: T0 + 60_000,
    }],
    message: ORIGINAL,
    now: T0 + 120_000,
    ...overrides,
  };
}

/** Python's email package (an independent MIME reader) describing a message, or null without python3. */
async function pythonView(message: Uint8Array): Promise<Record<string, unknown> | null> {
  const script = `
import email, email.policy, json, sys
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.compat32)
parts = msg.get_payload()
status = parts[1].get_payload()
print(json.dumps({
  "defects": [str(d) for d in msg.defects] + [str(d) for p in parts for d in p.defects],
  "type": msg.get_content_type(),
  "reportType": msg.get_param("report-type"),
  "subject": msg["subject"], "from": msg["from"], "autoSubmitted": msg["auto-submitted"],
  "parts": [p.get_content_type() for p in parts],
  "text": parts[0].get_payload(decode=True).decode("utf-8"),
  "status": [dict(block.items()) for block in status],
  "headers": parts[2].get_payload(),
}))
`;
  try {
    const child = new Deno.Command("python3", { args: ["-c", script], stdin: "piped", stdout: "piped" })
      .spawn();
    const writer = child.stdin.getWriter();
    await writer.write(message);
    await writer.close();
    const { stdout, success } = await child.output();
    assert.ok(success, "python3 read the report");
    return JSON.parse(decoder.decode(stdout));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

const hasPython = (() => {
  try {
    return new Deno.Command("python3", { args: ["--version"] }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test("a bounce is a multipart/report of an explanation, a delivery-status and the original's headers", () => {
  const report = composeDsn(bounce());
  const headers = messageHeaders(report);
  const value = (name: string) => lastHeader(headers, name)?.trim();
  assert.equal(value("from"), "Mail Delivery System <MAILER-DAEMON@mail.example.org>");
  assert.equal(value("to"), "<alice@example.org>");
  assert.equal(value("subject"), "Undelivered Mail Returned to Sender");
  assert.equal(value("auto-submitted"), "auto-replied");
  assert.equal(value("in-reply-to"), "<m1@example.org>");
  assert.equal(value("references"), "<m1@example.org>");
  assert.match(value("message-id")!, /^<[^<>@\s]+@mail\.example\.org>$/);

  const root = parseMime(report);
  assert.equal(root.type, "multipart/report");
  assert.equal(root.params["report-type"], "delivery-status");
  assert.deepEqual(root.subParts?.map((p) => p.type), [
    "text/plain",
    "message/delivery-status",
    "text/rfc822-headers",
  ]);
  const text = decoder.decode(decodeTransfer(report, root.subParts![0]).bytes);
  assert.match(text, /your message "Lunch\?" could not be\s+delivered/);
  assert.match(text, /<bob@example\.net>: 550 5\.1\.1/);
  assert.match(text, /check it for typing mistakes/);
  const returned = decoder.decode(decodeTransfer(report, root.subParts![2]).bytes);
  assert.match(returned, /^Subject: Lunch\?\r$/m);
  assert.doesNotMatch(returned, /Hi Bob/, "the body is not returned");
  // Every line ends in CRLF and none is longer than RFC 5322 allows.
  const lines = decoder.decode(report).split("\r\n");
  assert.ok(lines.every((l) => !l.includes("\n") && !l.includes("\r") && l.length <= 998));
});

Deno.test("compose then parse gives back every field of the report", () => {
  const dsn = parseDsn(composeDsn(bounce()));
  assert.ok(dsn);
  assert.equal(dsn.reportingMta, "mail.example.org");
  assert.equal(dsn.originalEnvelopeId, "postern-42");
  assert.equal(submissionOfEnvelopeId(dsn.originalEnvelopeId), 42);
  assert.equal(dsn.arrivalDate, "Sun, 6 Dec 2026 10:00:00 +0000");
  assert.equal(dsn.originalMessageId, "<m1@example.org>");
  assert.deepEqual(dsn.recipients, [{
    finalRecipient: "bob@example.net",
    originalRecipient: "Bob@example.net",
    action: "failed",
    status: "5.1.1",
    diagnosticType: "smtp",
    diagnosticCode:
      "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
    remoteMta: "mx.example.net",
    lastAttemptDate: "Sun, 6 Dec 2026 10:01:00 +0000",
  }, {
    finalRecipient: "carol@example.net",
    action: "failed",
    status: "5.0.0",
    diagnosticType: "smtp",
    diagnosticCode: "554 Transaction failed",
    lastAttemptDate: "Sun, 6 Dec 2026 10:01:00 +0000",
  }]);
});

Deno.test("a delay notice says delayed, until when it is retried, and is titled like Postfix's", () => {
  const until = T0 + 5 * 24 * 3600_000;
  const report = composeDsn(bounce({
    action: "delayed",
    willRetryUntil: until,
    recipients: [{
      address: "bob@example.net",
      result: {
        kind: "temporary",
        reply: "451 4.4.1 No answer from mx.example.net [192.0.2.1]: connection refused",
      },
      lastAttempt: T0 + 4 * 3600_000,
    }],
  }));
  assert.equal(lastHeader(messageHeaders(report), "subject")?.trim(), "Delayed Mail (still being retried)");
  const dsn = parseDsn(report)!;
  assert.equal(dsn.recipients[0].action, "delayed");
  assert.equal(dsn.recipients[0].status, "4.4.1");
  assert.equal(dsn.recipients[0].willRetryUntil, "Fri, 11 Dec 2026 10:00:00 +0000");
  const text = decoder.decode(decodeTransfer(report, parseMime(report).subParts![0]).bytes);
  assert.match(text, /WARNING ONLY/);
  assert.match(text, /keep trying until Fri, 11 Dec 2026 10:00:00 \+0000/);
});

Deno.test({
  name: "Python's email package reads the report's structure and every delivery-status block",
  ignore: !hasPython,
  fn: async () => {
    const view = (await pythonView(composeDsn(bounce())))!;
    assert.deepEqual(view.defects, []);
    assert.equal(view.type, "multipart/report");
    assert.equal(view.reportType, "delivery-status");
    assert.equal(view.subject, "Undelivered Mail Returned to Sender");
    assert.equal(view.autoSubmitted, "auto-replied");
    assert.deepEqual(view.parts, ["text/plain", "message/delivery-status", "text/rfc822-headers"]);
    assert.match(String(view.text), /Recipient address\s+rejected/);
    const [perMessage, bob, carol] = view.status as Record<string, string>[];
    assert.equal(perMessage["Reporting-MTA"], "dns; mail.example.org");
    assert.equal(perMessage["Original-Envelope-Id"], "postern-42");
    assert.equal(bob["Final-Recipient"], "rfc822; bob@example.net");
    assert.equal(bob["Original-Recipient"], "rfc822; Bob@example.net");
    assert.equal(bob.Action, "failed");
    assert.equal(bob.Status, "5.1.1");
    assert.equal(bob["Remote-MTA"], "dns; mx.example.net");
    assert.match(
      bob["Diagnostic-Code"],
      /^smtp; 550 5\.1\.1 <bob@example\.net>: Recipient address\s+rejected/,
    );
    assert.equal(carol["Final-Recipient"], "rfc822; carol@example.net");
    assert.match(String(view.headers), /^Message-ID: <m1@example\.org>\r?$/m);
  },
});

Deno.test({
  name: "an address that is not ASCII makes a message/global-delivery-status with utf-8 addresses (RFC 6533)",
  ignore: !hasPython,
  fn: async () => {
    const report = composeDsn(bounce({
      recipients: [{
        address: "jösé@example.net",
        result: { kind: "permanent", reply: "550 5.1.1 unknown" },
        lastAttempt: T0,
      }],
    }));
    const dsn = parseDsn(report)!;
    assert.equal(dsn.recipients[0].finalRecipient, "jösé@example.net");
    const view = (await pythonView(report))!;
    assert.deepEqual(view.parts, ["text/plain", "message/global-delivery-status", "text/rfc822-headers"]);
  },
});

Deno.test("a reply or address with line breaks cannot add a field or a part to the report (bad input)", () => {
  const report = composeDsn(bounce({
    envelopeId: "x\r\nBcc: victim@example.com",
    recipients: [{
      address: "bob@example.net\r\nX-Injected: 1",
      result: {
        kind: "permanent",
        reply: "550 5.1.1 no\r\n\r\n--fake\r\nContent-Type: text/html\r\n\r\n<b>hi</b>",
      },
      lastAttempt: T0,
    }],
  }));
  const text = decoder.decode(report);
  assert.doesNotMatch(text, /^Bcc:/m);
  assert.doesNotMatch(text, /^X-Injected:/m);
  assert.doesNotMatch(text, /^--fake/m);
  assert.doesNotMatch(text, /^Content-Type: text\/html/m);
  assert.deepEqual(text.split("\r\n").filter((l) => /[\r\n]/.test(l)), [], "no bare CR or LF");
  assert.equal(parseMime(report).subParts?.length, 3);
  assert.equal(parseDsn(report)?.recipients.length, 1);
  assert.throws(() => composeDsn(bounce({ recipients: [] })), /needs a recipient/);
  assert.throws(() => composeDsn(bounce({ sender: "" })), /null sender/);
});

Deno.test("an original without a Message-ID or headers still gives a report, without threading fields", () => {
  const report = composeDsn(bounce({ message: encoder.encode("no header at all, just text\r\n") }));
  const headers = messageHeaders(report);
  assert.equal(lastHeader(headers, "in-reply-to"), undefined);
  assert.equal(lastHeader(headers, "references"), undefined);
  const dsn = parseDsn(report)!;
  assert.equal(dsn.originalMessageId, undefined);
  assert.equal(dsn.recipients.length, 2);
});

Deno.test("the status is the reply's enhanced code of the same class, else derived from the basic code", () => {
  assert.equal(statusOfReply("550 5.1.1 <x>: unknown", "failed"), "5.1.1");
  assert.equal(statusOfReply("550-5.7.26 Unauthenticated email", "failed"), "5.7.26");
  assert.equal(statusOfReply("451 4.7.1 Try later", "delayed"), "4.7.1");
  assert.equal(statusOfReply("451 4.7.1 Try later", "failed"), "4.7.1", "expired: the last reply's code");
  assert.equal(statusOfReply("550 4.1.1 mixed classes", "failed"), "5.0.0");
  assert.equal(statusOfReply("554 Transaction failed", "failed"), "5.0.0");
  assert.equal(statusOfReply("421 Service not available", "delayed"), "4.0.0");
  assert.equal(statusOfReply("", "failed"), "5.0.0");
  assert.equal(statusOfReply("connection refused", "delayed"), "4.0.0");
});

Deno.test("envelope ids of submissions round trip, and other ids name no submission", () => {
  assert.equal(submissionOfEnvelopeId(submissionEnvelopeId(7)), 7);
  for (
    const other of [
      undefined,
      "",
      "postern-",
      "postern-x",
      "other-7",
      "postern-7-extra",
      "postern-1234567890123456",
    ]
  ) {
    assert.equal(submissionOfEnvelopeId(other), undefined, String(other));
  }
});

Deno.test("an original with an encoded and a raw UTF-8 subject: the explanation reads it, its headers go as 8bit", () => {
  const original = encoder.encode(
    "From: alice@example.org\r\nSubject: =?utf-8?Q?Caf=C3=A9?= ce soir\r\nX-Raw: Grüße\r\n" +
      "Message-ID: <m2@example.org>\r\n\r\nHi\r\n",
  );
  const report = composeDsn(bounce({ message: original }));
  const [text, , headers] = parseMime(report).subParts!;
  assert.match(decoder.decode(decodeTransfer(report, text).bytes), /your message "Café ce soir"/);
  assert.equal(headers.encoding, "8bit");
  assert.match(decoder.decode(decodeTransfer(report, headers).bytes), /^X-Raw: Grüße\r$/m);
  assert.equal(parseDsn(report)?.originalMessageId, "<m2@example.org>");
});
