/**
 * Identities (RFC 8621 §6) and EmailSubmission (§7) with local delivery: each address has its
 * identity, users add their own for those addresses only; a submission from A to B lands in B's
 * Inbox without the Bcc, the reply threads with A's sent message, onSuccessUpdateEmail files the
 * draft, FUTURERELEASE (HOLDFOR/HOLDUNTIL) holds it (cancel), and errors say what is wrong.
 */
import assert from "node:assert/strict";
import { getEmail } from "./email_helpers.ts";
import { basic, PASSWORD } from "./helpers.ts";
import { call as jmapCall, CORE, MAIL, withApp } from "./jmap_helpers.ts";
import { call, draft, SUBMISSION } from "./submission_helpers.ts";
import { adminSetAccounts, createUsers, mailboxesByName, mailCall, type Obj } from "./mail_helpers.ts";

Deno.test("every address has its identity; users add identities for their own addresses only", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    await adminSetAccounts(t, { update: { [alice.accountId]: { aliases: { "0": "ali@example.org" } } } });
    const got = await call(t, alice, "Identity/get", { ids: null });
    const list = got.list as Obj[];
    assert.deepEqual(
      list.map((i) => [i.email, i.mayDelete]).sort(),
      [["alice@example.org", false], ["ali@example.org", false]].sort(),
    );
    const set = await call(t, alice, "Identity/set", {
      create: {
        work: { email: "ALI@example.org", name: "Alice at work", textSignature: "-- \\nAlice" },
        foreign: { email: "boss@example.org" },
      },
      destroy: [list[0].id],
    });
    const work = (set.created as Record<string, Obj>).work;
    assert.equal(work.mayDelete, true);
    assert.equal((set.notCreated as Record<string, Obj>).foreign.type, "forbiddenFrom");
    assert.equal((set.notDestroyed as Record<string, Obj>)[list[0].id as string].type, "forbidden");
    const renamed = await call(t, alice, "Identity/set", {
      update: { [work.id as string]: { email: "alice@example.org" } },
    });
    assert.equal((renamed.notUpdated as Record<string, Obj>)[work.id as string].type, "invalidProperties");
    const gone = await call(t, alice, "Identity/set", { destroy: [work.id] });
    assert.deepEqual(gone.destroyed, [work.id]);
  });
});

Deno.test("a submission from A lands in B's Inbox without the Bcc, files A's draft as sent, and B's reply threads with it", async () => {
  await withApp(async (t) => {
    const [alice, bob, carol] = await createUsers(t, ["alice", "bob", "carol"]);
    const aliceBoxes = await mailboxesByName(t, alice);
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const emailId = await draft(t, alice, {
      to: [{ name: "Bob", email: "bob@example.org" }],
      bcc: [{ name: null, email: "carol@example.org" }],
      subject: "Lunch?",
    });
    const { methodResponses } = await (async () => {
      const response = await t.fetch("/jmap", {
        method: "POST",
        headers: { authorization: alice.auth, "content-type": "application/json" },
        body: JSON.stringify({
          using: [CORE, MAIL, SUBMISSION],
          methodCalls: [["EmailSubmission/set", {
            accountId: alice.accountId,
            create: { s: { identityId: identity.id, emailId } },
            onSuccessUpdateEmail: {
              "#s": {
                [`mailboxIds/${aliceBoxes.Drafts.id}`]: null,
                [`mailboxIds/${aliceBoxes.Sent.id}`]: true,
                "keywords/$draft": null,
              },
            },
          }, "0"]],
        }),
      });
      return await response.json();
    })();
    const [[setName, setResult], [implicitName, implicit]] = methodResponses;
    assert.equal(setName, "EmailSubmission/set");
    const submission = (setResult.created as Record<string, Obj>).s;
    assert.equal(submission.undoStatus, "final");
    assert.equal(implicitName, "Email/set");
    assert.deepEqual(implicit.updated, { [emailId]: null });
    const sent = await getEmail(t, alice, emailId, { properties: ["mailboxIds", "keywords", "messageId"] });
    assert.deepEqual(sent.mailboxIds, { [aliceBoxes.Sent.id as string]: true });
    assert.deepEqual(sent.keywords, {});

    const got = await call(t, alice, "EmailSubmission/get", { ids: [submission.id] });
    const record = (got.list as Obj[])[0];
    assert.deepEqual(record.envelope, {
      mailFrom: { email: "alice@example.org", parameters: null },
      rcptTo: [{ email: "bob@example.org", parameters: null }, {
        email: "carol@example.org",
        parameters: null,
      }],
    });
    const status = record.deliveryStatus as Record<string, Obj>;
    assert.equal(status["bob@example.org"].delivered, "yes");
    assert.equal(status["carol@example.org"].delivered, "yes");

    for (const who of [bob, carol]) {
      const inbox = (await mailboxesByName(t, who)).Inbox;
      assert.equal(inbox.totalEmails, 1, who.emailAddress);
      const ids = (await mailCall(t, "Email/query", { filter: { inMailbox: inbox.id } }, who))
        .ids as string[];
      const received = await getEmail(t, who, ids[0], {
        properties: ["subject", "bcc", "header:Bcc:all", "from"],
      });
      assert.equal(received.subject, "Lunch?");
      assert.equal(received.bcc, null, "the Bcc is not delivered");
      assert.deepEqual(received["header:Bcc:all"], []);
    }

    // Bob replies; in Alice's account the reply joins the thread of her sent message.
    const bobInbox = (await mailboxesByName(t, bob)).Inbox.id as string;
    const original = (await mailCall(t, "Email/query", { filter: { inMailbox: bobInbox } }, bob))
      .ids as string[];
    const originalId = (await getEmail(t, bob, original[0], { properties: ["messageId"] }))
      .messageId as string[];
    const bobIdentity = ((await call(t, bob, "Identity/get", { ids: null })).list as Obj[])[0];
    const reply = await draft(t, bob, {
      to: [{ name: null, email: "alice@example.org" }],
      subject: "Re: Lunch?",
      inReplyTo: originalId,
      references: originalId,
    });
    await call(t, bob, "EmailSubmission/set", {
      create: { r: { identityId: bobIdentity.id, emailId: reply } },
    });
    const aliceInbox =
      (await mailCall(t, "Email/query", { filter: { inMailbox: aliceBoxes.Inbox.id } }, alice))
        .ids as string[];
    const arrived = await getEmail(t, alice, aliceInbox[0], { properties: ["threadId"] });
    const mine = await getEmail(t, alice, emailId, { properties: ["threadId"] });
    assert.equal(arrived.threadId, mine.threadId);
  });
});

Deno.test("submissions refused: no recipients, bad recipients, a From that is not the sender's, other people's identities", async () => {
  await withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const bobIdentity = ((await call(t, bob, "Identity/get", { ids: null })).list as Obj[])[0];
    const nobody = await draft(t, alice, { subject: "to nobody" });
    const forged = await draft(t, alice, {
      from: [{ name: null, email: "ceo@example.org" }],
      to: [{ name: null, email: "bob@example.org" }],
    });
    const fine = await draft(t, alice, { to: [{ name: null, email: "bob@example.org" }] });
    const result = await call(t, alice, "EmailSubmission/set", {
      create: {
        nobody: { identityId: identity.id, emailId: nobody },
        forged: { identityId: identity.id, emailId: forged },
        badRcpt: {
          identityId: identity.id,
          emailId: fine,
          envelope: { mailFrom: { email: "alice@example.org" }, rcptTo: [{ email: "not an address" }] },
        },
        othersIdentity: { identityId: bobIdentity.id, emailId: fine },
        serverSet: { identityId: identity.id, emailId: fine, undoStatus: "final" },
      },
    });
    const refused = result.notCreated as Record<string, Obj>;
    assert.equal(refused.nobody.type, "noRecipients");
    assert.equal(refused.forged.type, "forbiddenFrom");
    assert.equal(refused.badRcpt.type, "invalidRecipients");
    assert.deepEqual(refused.badRcpt.invalidRecipients, ["not an address"]);
    assert.deepEqual(refused.othersIdentity.properties, ["identityId"]);
    assert.deepEqual(refused.serverSet.properties, ["undoStatus"]);
    assert.equal((await mailboxesByName(t, bob)).Inbox.totalEmails, 0);

    // A recipient elsewhere: queued (the outbound queue delivers it), with the queue's reply.
    const external = await draft(t, alice, { to: [{ name: null, email: "someone@elsewhere.example" }] });
    const sent = await call(t, alice, "EmailSubmission/set", {
      create: { e: { identityId: identity.id, emailId: external } },
    });
    const id = ((sent.created as Record<string, Obj>).e.id) as string;
    const record = ((await call(t, alice, "EmailSubmission/get", { ids: [id] })).list as Obj[])[0];
    const status = (record.deliveryStatus as Record<string, Obj>)["someone@elsewhere.example"];
    assert.equal(status.delivered, "queued");
    assert.match(String(status.smtpReply), /^250 2\.1\.5 Queued/);
    assert.equal(record.undoStatus, "pending", "cancelable until the queue tries it");
  });
});

Deno.test("HOLDUNTIL and HOLDFOR hold a submission as pending; it can be canceled until then, and goes out when due", async () => {
  await withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const later = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    const envelope = (hold: Record<string, string>) => ({
      mailFrom: { email: "alice@example.org", parameters: hold },
      rcptTo: [{ email: "bob@example.org", parameters: null }],
    });
    const first = await draft(t, alice, { to: [{ name: null, email: "bob@example.org" }], subject: "later" });
    const second = await draft(t, alice, {
      to: [{ name: null, email: "bob@example.org" }],
      subject: "never",
    });
    const set = await call(t, alice, "EmailSubmission/set", {
      create: {
        a: { identityId: identity.id, emailId: first, envelope: envelope({ HOLDUNTIL: later }) },
        b: { identityId: identity.id, emailId: second, envelope: envelope({ HOLDFOR: "3600" }) },
      },
    });
    const a = (set.created as Record<string, Obj>).a;
    const b = (set.created as Record<string, Obj>).b;
    assert.equal(a.undoStatus, "pending");
    assert.equal(a.sendAt, later);
    assert.equal(b.undoStatus, "pending");
    const cancel = await call(t, alice, "EmailSubmission/set", {
      update: { [b.id as string]: { undoStatus: "canceled" } },
    });
    assert.deepEqual(cancel.updated, { [b.id as string]: null });
    assert.equal((await mailboxesByName(t, bob)).Inbox.totalEmails, 0, "nothing sent before its time");
    // Its time comes (the server checks every second; here, an hour ahead).
    assert.equal(await t.services.submissions.sendDue(Date.now() + 3_700_000), 1);
    const inbox = (await mailboxesByName(t, bob)).Inbox;
    assert.equal(inbox.totalEmails, 1);
    const statuses =
      (await call(t, alice, "EmailSubmission/get", { ids: [a.id, b.id], properties: ["undoStatus"] })).list;
    assert.deepEqual(statuses, [{ id: a.id, undoStatus: "final" }, { id: b.id, undoStatus: "canceled" }]);
    const again = await call(t, alice, "EmailSubmission/set", {
      update: { [a.id as string]: { undoStatus: "canceled" } },
    });
    assert.equal((again.notUpdated as Record<string, Obj>)[a.id as string].type, "cannotUnsend");
  });
});

Deno.test("a hold past maxDelayedSend, a malformed hold and a client-set sendAt are refused with the property named", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice", "bob"]);
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const emailId = await draft(t, alice, { to: [{ name: null, email: "bob@example.org" }], subject: "x" });
    const envelope = (parameters: Record<string, string>) => ({
      mailFrom: { email: "alice@example.org", parameters },
      rcptTo: [{ email: "bob@example.org", parameters: null }],
    });
    const set = await call(t, alice, "EmailSubmission/set", {
      create: {
        tooFar: { identityId: identity.id, emailId, envelope: envelope({ HOLDFOR: String(8 * 24 * 3600) }) },
        badFor: { identityId: identity.id, emailId, envelope: envelope({ HOLDFOR: "soon" }) },
        badUntil: { identityId: identity.id, emailId, envelope: envelope({ HOLDUNTIL: "tomorrow" }) },
        clientSendAt: { identityId: identity.id, emailId, sendAt: "2030-01-01T00:00:00Z" },
      },
    });
    const notCreated = set.notCreated as Record<string, Obj>;
    assert.deepEqual(Object.keys(notCreated).sort(), ["badFor", "badUntil", "clientSendAt", "tooFar"]);
    for (
      const [key, property] of [["tooFar", "envelope"], ["badFor", "envelope"], ["badUntil", "envelope"], [
        "clientSendAt",
        "sendAt",
      ]]
    ) {
      assert.equal(notCreated[key].type, "invalidProperties", key);
      assert.deepEqual(notCreated[key].properties, [property], key);
    }
    assert.match(String(notCreated.tooFar.description), /maxDelayedSend/);
    assert.equal(set.created, null);
  });
});

Deno.test("more recipients than maxRecipients is tooManyRecipients, with the limit", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const emailId = await draft(t, alice, { to: [{ name: null, email: "bob@example.org" }], subject: "all" });
    const rcptTo = Array.from({ length: 101 }, (_, i) => ({ email: `r${i}@example.org`, parameters: null }));
    const set = await call(t, alice, "EmailSubmission/set", {
      create: {
        s: {
          identityId: identity.id,
          emailId,
          envelope: { mailFrom: { email: "alice@example.org" }, rcptTo },
        },
      },
    });
    const error = (set.notCreated as Record<string, Obj>).s;
    assert.equal(error.type, "tooManyRecipients");
    assert.equal(error.maxRecipients, 100);
    assert.deepEqual((await call(t, alice, "EmailSubmission/get", { ids: null })).list, []);
  });
});

Deno.test("local delivery respects the recipient's quota: a full mailbox is 552 in the delivery status", async () => {
  await withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await adminSetAccounts(t, { update: { [bob.accountId]: { quotas: { maxDiskQuota: 100 } } } });
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const emailId = await draft(t, alice, { to: [{ name: null, email: "bob@example.org" }], subject: "big" });
    const set = await call(t, alice, "EmailSubmission/set", {
      create: { s: { identityId: identity.id, emailId } },
    });
    const id = (set.created as Record<string, Obj>).s.id as string;
    const record = ((await call(t, alice, "EmailSubmission/get", { ids: [id] })).list as Obj[])[0];
    const status = (record.deliveryStatus as Record<string, Obj>)["bob@example.org"];
    assert.equal(status.delivered, "no");
    assert.match(String(status.smtpReply), /^552 5\.2\.2/);
    assert.equal((await mailboxesByName(t, bob)).Inbox.totalEmails, 0);
  });
});

Deno.test("a Sender naming another account's address is refused like a From (forbiddenFrom); the account's own Sender goes out", async () => {
  await withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const to = [{ name: null, email: "bob@example.org" }];
    const asBob = await draft(t, alice, { sender: [{ name: "Bob", email: "Bob@example.org" }], to });
    const asBobRaw = await draft(t, alice, {
      "header:Sender": " Bob <bob@example.org>",
      to,
    });
    const own = await draft(t, alice, { sender: [{ name: null, email: "alice@example.org" }], to });
    const result = await call(t, alice, "EmailSubmission/set", {
      create: {
        asBob: { identityId: identity.id, emailId: asBob },
        asBobRaw: { identityId: identity.id, emailId: asBobRaw },
        own: { identityId: identity.id, emailId: own },
      },
    });
    const refused = result.notCreated as Record<string, Obj>;
    assert.equal(refused.asBob.type, "forbiddenFrom", JSON.stringify(result));
    assert.match(String(refused.asBob.description), /Sender \(bob@example\.org\)/);
    assert.equal(refused.asBobRaw.type, "forbiddenFrom");
    assert.ok((result.created as Record<string, Obj>).own, JSON.stringify(result));
    assert.equal((await mailboxesByName(t, bob)).Inbox.totalEmails, 1, "only the honest one arrived");
  });
});

Deno.test("a submission to user@localhost, the default domain of a fresh install, is delivered locally (RFC 5321 single-label domain)", async () => {
  await withApp(async (t) => {
    const domain = await jmapCall(t, "x:Domain/set", { create: { d: { name: "localhost" } } });
    assert.equal(domain.notCreated, null, JSON.stringify(domain.notCreated));
    const domainId = (domain.created as Record<string, Obj>).d.id as string;
    const [alice, bob] = (await createUsers(t, ["alice", "bob"], { domainId })).map((who) => {
      const emailAddress = who.emailAddress.replace("@example.org", "@localhost");
      return { ...who, emailAddress, auth: basic(emailAddress, PASSWORD) };
    });
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    assert.equal(identity.email, "alice@localhost");
    const emailId = await draft(t, alice, { to: [{ name: null, email: "bob@localhost" }], subject: "hi" });
    const set = await call(t, alice, "EmailSubmission/set", {
      create: { s: { identityId: identity.id, emailId } },
    });
    // RFC 5321 §4.1.2: `Domain = sub-domain *("." sub-domain)`: one label is a domain.
    assert.equal(set.notCreated, null, JSON.stringify(set.notCreated));
    const id = (set.created as Record<string, Obj>).s.id as string;
    const record = ((await call(t, alice, "EmailSubmission/get", { ids: [id] })).list as Obj[])[0];
    assert.equal((record.deliveryStatus as Record<string, Obj>)["bob@localhost"].delivered, "yes");
    assert.equal((await mailboxesByName(t, bob)).Inbox.totalEmails, 1);

    // A domain with an empty label is still not an address.
    const bad = await call(t, alice, "EmailSubmission/set", {
      create: {
        b: {
          identityId: identity.id,
          emailId,
          envelope: { mailFrom: { email: "alice@localhost" }, rcptTo: [{ email: "bob@local..host" }] },
        },
      },
    });
    const refused = (bad.notCreated as Record<string, Obj>).b;
    assert.equal(refused.type, "invalidRecipients");
    assert.deepEqual(refused.invalidRecipients, ["bob@local..host"]);
  });
});
