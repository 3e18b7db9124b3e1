/**
 * Delivery reports arriving at the MX for mail an account sent (src/mail/dsn_inbound.ts): a report
 * about one of the account's own submissions, matched by the envelope id the submission was sent
 * with or else by the returned Message-ID, updates that recipient's deliveryStatus, which the
 * sender sees through EmailSubmission/get and /changes; the report is delivered as mail either way.
 * A report delivered to another account, one with an envelope sender (no server sends a DSN so),
 * one naming someone the submission was not sent to, and a malformed one change nothing.
 */
import assert from "node:assert/strict";
import { composeDsn, type DsnInput, submissionEnvelopeId } from "../src/mail/mod.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { ADMIN } from "./jmap_helpers.ts";
import { createUsers, mailCall, type Obj, type Who } from "./mail_helpers.ts";
import { smarthost } from "./smtp_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

const FRIEND = "friend@elsewhere.example";
const PAL = "pal@elsewhere.example";

interface Sent {
  /** The JMAP id of the submission and its number in the store (for the envelope id). */
  id: string;
  number: number;
  /** The message as sent. */
  message: Uint8Array;
}

/** Alice and Bob, a smarthost that accepts everything, and one message alice sent to FRIEND and PAL. */
async function withSentMessage(body: (t: TestApp, alice: Who, bob: Who, sent: Sent) => Promise<void>) {
  const host = await smarthost();
  try {
    await withApp(async (t) => {
      await managementCall(t, ADMIN, "x:Smarthost/set", {
        accountId: "b",
        update: { singleton: { host: "127.0.0.1", port: host.port, security: "none" } },
      });
      await managementCall(t, ADMIN, "x:Outbound/set", {
        accountId: "b",
        update: { singleton: { route: "smarthost" } },
      });
      const [alice, bob] = await createUsers(t, ["alice", "bob"]);
      const emailId = await draft(t, alice, {
        to: [{ name: null, email: FRIEND }, { name: null, email: PAL }],
        subject: "Will bounce",
      });
      const id = ((await send(t, alice, emailId)).created as Record<string, Obj>).s.id as string;
      await t.services.queue.runDue();
      const accountNumber = (await t.services.accounts.idByLogin("alice@example.org"))!;
      const [record] = await t.services.store.submissions.list(accountNumber);
      assert.equal(host.received.length, 1);
      await body(t, alice, bob, {
        id,
        number: record.id,
        message: new TextEncoder().encode(host.received[0].data),
      });
    });
  } finally {
    await host.close();
  }
}

/** A bounce for FRIEND of the sent message, as another server would write it. */
function report(sent: Sent, overrides: Partial<DsnInput> = {}): Uint8Array {
  return composeDsn({
    action: "failed",
    reportingMta: "mx.elsewhere.example",
    sender: "alice@example.org",
    envelopeId: submissionEnvelopeId(sent.number),
    arrivalDate: Date.now(),
    recipients: [{
      address: FRIEND,
      result: { kind: "permanent", reply: "550 5.1.1 <friend@elsewhere.example>: User unknown" },
      lastAttempt: Date.now(),
    }],
    message: sent.message,
    ...overrides,
  });
}

/** Delivers `message` to `to` as the MX does, from envelope sender `mailFrom`. */
async function receive(t: TestApp, to: string, message: Uint8Array, mailFrom = ""): Promise<void> {
  const check = await t.services.inbound.checkRecipient(to);
  assert.ok(check.accepted);
  const stored = await t.services.inbound.deliver({
    mailFrom,
    recipients: [check.recipient],
    message,
    received: () => "Received: from mx.elsewhere.example by example.org; Sun, 6 Dec 2026 10:00:00 +0000\r\n",
  });
  assert.equal(stored, 1, "the report is delivered as mail");
}

async function submission(t: TestApp, alice: Who, id: string): Promise<Obj> {
  const got = await call(t, alice, "EmailSubmission/get", { ids: [id] });
  return { ...(got.list as Obj[])[0], state: got.state };
}

const statusOf = async (t: TestApp, alice: Who, id: string) =>
  (await submission(t, alice, id)).deliveryStatus as Record<string, Obj>;

async function inboxSubjects(t: TestApp, who: Who): Promise<string[]> {
  const { ids } = await mailCall(t, "Email/query", {}, who);
  const { list } = await mailCall(t, "Email/get", { ids, properties: ["subject"] }, who);
  return (list as Obj[]).map((e) => String(e.subject)).sort();
}

Deno.test("a bounce quoting the submission's envelope id marks that recipient failed, seen in /get and /changes", async () => {
  await withSentMessage(async (t, alice, _bob, sent) => {
    const before = await submission(t, alice, sent.id);
    assert.equal((before.deliveryStatus as Record<string, Obj>)[FRIEND].delivered, "unknown");
    await receive(t, "alice@example.org", report(sent));

    const status = await statusOf(t, alice, sent.id);
    assert.equal(status[FRIEND].delivered, "no");
    assert.equal(status[FRIEND].smtpReply, "550 5.1.1 <friend@elsewhere.example>: User unknown");
    assert.equal(status[PAL].delivered, "unknown", "a recipient the report does not name keeps its status");
    const changes = await call(t, alice, "EmailSubmission/changes", { sinceState: before.state });
    assert.deepEqual(changes.updated, [sent.id]);
    assert.ok((await inboxSubjects(t, alice)).includes("Undelivered Mail Returned to Sender"));
  });
});

Deno.test("without an envelope id the report is matched by the returned Message-ID; a delivered report says yes", async () => {
  await withSentMessage(async (t, alice, _bob, sent) => {
    await receive(t, "alice@example.org", report(sent, { envelopeId: undefined }));
    assert.equal((await statusOf(t, alice, sent.id))[FRIEND].delivered, "no");

    // A report that PAL's mailbox got it (RFC 3461 NOTIFY=SUCCESS) is a confirmed delivery.
    const delivered = new TextDecoder().decode(report(sent, {
      envelopeId: undefined,
      recipients: [{ address: PAL, result: { kind: "delivered", reply: "250 2.0.0 OK" }, lastAttempt: 0 }],
    })).replace("Action: failed", "Action: delivered");
    await receive(t, "alice@example.org", new TextEncoder().encode(delivered));
    const status = await statusOf(t, alice, sent.id);
    assert.equal(status[PAL].delivered, "yes");
    assert.equal(status[PAL].smtpReply, "250 2.0.0 OK");
    assert.equal(status[FRIEND].delivered, "no", "a failure stays a failure");
  });
});

Deno.test("a report for someone else's submission, with a sender, or about another recipient changes nothing (authorization)", async () => {
  await withSentMessage(async (t, alice, bob, sent) => {
    const before = await submission(t, alice, sent.id);
    // Bob receives a report naming alice's submission by envelope id and by Message-ID.
    await receive(t, "bob@example.org", report(sent));
    await receive(t, "bob@example.org", report(sent, { envelopeId: undefined }));
    // Alice receives one with an envelope sender: no server sends a DSN so (RFC 3464 §2).
    await receive(t, "alice@example.org", report(sent), "mallory@elsewhere.example");
    // And one about an address the submission was not sent to.
    await receive(
      t,
      "alice@example.org",
      report(sent, {
        recipients: [{
          address: "stranger@elsewhere.example",
          result: { kind: "permanent", reply: "550 5.1.1 no" },
          lastAttempt: 0,
        }],
      }),
    );
    const after = await submission(t, alice, sent.id);
    assert.deepEqual(after.deliveryStatus, before.deliveryStatus);
    assert.equal(after.state, before.state, "no change was logged");
    assert.equal((await inboxSubjects(t, bob)).length, 2, "bob still gets his mail");
  });
});

Deno.test("a malformed report is just delivered as mail (bad input)", async () => {
  await withSentMessage(async (t, alice, _bob, sent) => {
    const before = await submission(t, alice, sent.id);
    const broken = new TextEncoder().encode(
      "From: MAILER-DAEMON@elsewhere.example\r\nSubject: Broken report\r\n" +
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n' +
        `--b\r\nContent-Type: message/delivery-status\r\n\r\nOriginal-Envelope-Id: postern-${sent.number}\r\n` +
        `\r\nFinal-Recipient: ${FRIEND}\r\nAction: \r\nStatus: failed\r\n--b\r\nContent-Type: text/rfc822-headers\r\n` +
        "\r\nMessage-ID: <\x00\r\n--b",
    );
    await receive(t, "alice@example.org", broken);
    const after = await submission(t, alice, sent.id);
    assert.deepEqual(after.deliveryStatus, before.deliveryStatus);
    assert.ok((await inboxSubjects(t, alice)).includes("Broken report"));
  });
});

Deno.test("a final status is never undone: a relay's unknown recorded after a report's no stays no, in either order", async () => {
  await withSentMessage(async (t, alice, _bob, sent) => {
    const { submissions } = t.services.store;
    const relayed = {
      delivered: "unknown" as const,
      smtpReply: "250 2.0.0 Ok: queued",
      displayed: "unknown" as const,
    };
    // Queue first (the send above recorded unknown), then the report: no.
    await receive(t, "alice@example.org", report(sent));
    assert.equal((await statusOf(t, alice, sent.id))[FRIEND].delivered, "no");
    // The report first, then the queue recording the relay's acceptance late: still no.
    assert.equal(await submissions.queueProgress(sent.number, { [FRIEND]: relayed, [PAL]: relayed }), true);
    const status = await statusOf(t, alice, sent.id);
    assert.equal(status[FRIEND].delivered, "no");
    assert.equal(status[FRIEND].smtpReply, "550 5.1.1 <friend@elsewhere.example>: User unknown");
    assert.equal(status[PAL].delivered, "unknown", "a recipient without a final status takes the new one");
    // A confirmed delivery is not undone by a later queued either.
    const yes = { delivered: "yes" as const, smtpReply: "250 2.0.0 OK", displayed: "unknown" as const };
    await submissions.queueProgress(sent.number, { [PAL]: yes });
    await submissions.queueProgress(sent.number, { [PAL]: { ...relayed, delivered: "queued" } });
    assert.equal((await statusOf(t, alice, sent.id))[PAL].delivered, "yes");
    // A final outcome may replace another (the newer report wins).
    await submissions.queueProgress(sent.number, {
      [PAL]: { ...yes, delivered: "no", smtpReply: "550 5.0.0 Later" },
    });
    assert.equal((await statusOf(t, alice, sent.id))[PAL].delivered, "no");
  });
});
