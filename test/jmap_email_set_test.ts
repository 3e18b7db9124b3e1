/**
 * Email/set (RFC 8621 §4.6): keywords and mailboxes change by patch, counts and changes follow,
 * nothing else of an email changes, destroying removes it (and its thread when it was the last),
 * rights in shared mailboxes are checked one by one, and a mailbox with emails is not destroyed
 * unless asked to remove them.
 */
import assert from "node:assert/strict";
import { imported, message } from "./email_helpers.ts";
import {
  createMailbox,
  mailboxesByName,
  mailboxState,
  mailCall,
  type Obj,
  rights,
  share,
  withAliceAndBob,
} from "./mail_helpers.ts";

const counts = (m: Obj) => [m.totalEmails, m.unreadEmails, m.totalThreads, m.unreadThreads];
const first = message("Subject: Lunch?\nMessage-ID: <lunch@example.org>\n\nNoon?\n");
const reply = message("Subject: Re: Lunch?\nIn-Reply-To: <lunch@example.org>\n\nSure\n");

async function setEmails(t: Parameters<typeof mailCall>[0], who: Parameters<typeof mailCall>[3], args: Obj) {
  return await mailCall(t, "Email/set", args, who);
}

Deno.test("keywords and mailboxes change by patch; counts, Email and Mailbox changes follow", async () => {
  await withAliceAndBob(async (t, alice) => {
    const boxes = await mailboxesByName(t, alice);
    const inbox = boxes.Inbox.id as string;
    const archive = boxes.Archive.id as string;
    const a = await imported(t, alice, first);
    const b = await imported(t, alice, reply);
    assert.deepEqual(counts((await mailboxesByName(t, alice)).Inbox), [2, 2, 1, 1]);
    const emailState = (await mailCall(t, "Email/get", { ids: [] }, alice)).state as string;
    const boxState = await mailboxState(t, alice);

    const seen = await setEmails(t, alice, { update: { [a.id as string]: { "keywords/$seen": true } } });
    assert.deepEqual(seen.updated, { [a.id as string]: null }, JSON.stringify(seen));
    assert.deepEqual(counts((await mailboxesByName(t, alice)).Inbox), [2, 1, 1, 1]);
    await setEmails(t, alice, {
      update: { [b.id as string]: { keywords: { $seen: true, $flagged: true } } },
    });
    assert.deepEqual(counts((await mailboxesByName(t, alice)).Inbox), [2, 0, 1, 0]);

    const moved = await setEmails(t, alice, {
      update: { [b.id as string]: { [`mailboxIds/${inbox}`]: null, [`mailboxIds/${archive}`]: true } },
    });
    assert.equal(moved.notUpdated, null, JSON.stringify(moved));
    const after = await mailboxesByName(t, alice);
    assert.deepEqual(counts(after.Inbox), [1, 0, 1, 0]);
    assert.deepEqual(counts(after.Archive), [1, 0, 1, 0]);
    const got = await mailCall(
      t,
      "Email/get",
      { ids: [b.id], properties: ["mailboxIds", "keywords"] },
      alice,
    );
    assert.deepEqual(got.list, [{
      id: b.id,
      mailboxIds: { [archive]: true },
      keywords: { $flagged: true, $seen: true },
    }]);

    const emails = await mailCall(t, "Email/changes", { sinceState: emailState }, alice);
    assert.deepEqual((emails.updated as string[]).sort(), [a.id, b.id].sort());
    const mailboxes = await mailCall(t, "Mailbox/changes", { sinceState: boxState }, alice);
    assert.deepEqual((mailboxes.updated as string[]).sort(), [inbox, archive].sort());
  });
});

Deno.test("what cannot change is refused property by property, and an email keeps one mailbox at least", async () => {
  await withAliceAndBob(async (t, alice) => {
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const { id } = await imported(t, alice, first);
    const result = await setEmails(t, alice, {
      update: {
        [id as string]: { subject: "changed", "keywords/$seen": true },
        zzzzzz: { "keywords/$seen": true },
      },
    });
    const refused = result.notUpdated as Record<string, Obj>;
    assert.equal(refused[id as string].type, "invalidProperties");
    assert.deepEqual(refused[id as string].properties, ["subject"]);
    assert.equal(refused.zzzzzz.type, "notFound");
    const empty = await setEmails(t, alice, {
      update: { [id as string]: { [`mailboxIds/${inbox}`]: null } },
    });
    assert.deepEqual((empty.notUpdated as Record<string, Obj>)[id as string].properties, ["mailboxIds"]);
    const badKeyword = await setEmails(t, alice, {
      update: { [id as string]: { keywords: { "a b": true } } },
    });
    assert.equal((badKeyword.notUpdated as Record<string, Obj>)[id as string].type, "invalidProperties");
    const nowhere = await setEmails(t, alice, {
      update: { [id as string]: { mailboxIds: { zzzzzz: true } } },
    });
    assert.equal((nowhere.notUpdated as Record<string, Obj>)[id as string].type, "invalidProperties");
    const created = await setEmails(t, alice, { create: { x: { subject: "new" } } });
    assert.ok((created.notCreated as Record<string, Obj>).x, "creation is not possible yet and says so");
    const still = await mailCall(t, "Email/get", { ids: [id], properties: ["keywords", "subject"] }, alice);
    assert.deepEqual(still.list, [{ id, keywords: {}, subject: "Lunch?" }]);
  });
});

Deno.test("destroying emails: the thread goes with its last one; counts and changes follow; the message is collected", async () => {
  await withAliceAndBob(async (t, alice) => {
    const a = await imported(t, alice, first);
    const b = await imported(t, alice, reply);
    const threadState = (await mailCall(t, "Thread/get", { ids: [] }, alice)).state as string;
    const gone = await setEmails(t, alice, { destroy: [b.id, "zzzzzz"] });
    assert.deepEqual(gone.destroyed, [b.id]);
    assert.equal((gone.notDestroyed as Record<string, Obj>).zzzzzz.type, "notFound");
    let threads = await mailCall(t, "Thread/get", { ids: [a.threadId] }, alice);
    assert.deepEqual(threads.list, [{ id: a.threadId, emailIds: [a.id] }]);
    assert.deepEqual((await mailCall(t, "Thread/changes", { sinceState: threadState }, alice)).updated, [
      a.threadId,
    ]);
    await setEmails(t, alice, { destroy: [a.id] });
    threads = await mailCall(t, "Thread/get", { ids: [a.threadId] }, alice);
    assert.deepEqual(threads.notFound, [a.threadId]);
    assert.deepEqual((await mailCall(t, "Thread/changes", { sinceState: threadState }, alice)).destroyed, [
      a.threadId,
    ]);
    assert.deepEqual(counts((await mailboxesByName(t, alice)).Inbox), [0, 0, 0, 0]);
    // Once the uploads expire nothing refers to the messages: they are collected.
    const collected = await t.services.blobs.collect(Date.now() + 2 * 60 * 60 * 1000);
    assert.equal(collected.blobs, 2);
  });
});

Deno.test("in a shared mailbox each change needs its right: maySetSeen, maySetKeywords, mayAddItems, mayRemoveItems", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const boxes = await mailboxesByName(t, alice);
    const inbox = boxes.Inbox.id as string;
    const team = await createMailbox(t, alice, { name: "Team" });
    const { id } = await imported(t, alice, first);
    const asBob = (args: Obj) => setEmails(t, bob, { accountId: alice.accountId, ...args });
    const refusal = (result: Obj) =>
      (result.notUpdated as Record<string, Obj> | null)?.[id as string]?.type ?? "ok";
    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems") });
    assert.equal(
      refusal(await asBob({ update: { [id as string]: { "keywords/$seen": true } } })),
      "forbidden",
    );
    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems", "maySetSeen") });
    assert.equal(refusal(await asBob({ update: { [id as string]: { "keywords/$seen": true } } })), "ok");
    assert.equal(
      refusal(await asBob({ update: { [id as string]: { "keywords/$flagged": true } } })),
      "forbidden",
    );
    // Moving to Team needs mayRemoveItems on the Inbox and mayAddItems on Team.
    await share(t, alice, team.id as string, { [bob.accountId]: rights("mayReadItems", "mayAddItems") });
    const move = {
      update: { [id as string]: { [`mailboxIds/${inbox}`]: null, [`mailboxIds/${team.id}`]: true } },
    };
    assert.equal(refusal(await asBob(move)), "forbidden");
    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems", "maySetSeen", "mayRemoveItems") });
    assert.equal(refusal(await asBob(move)), "ok");
    const destroyed = await asBob({ destroy: [id] });
    assert.equal((destroyed.notDestroyed as Record<string, Obj>)[id as string].type, "forbidden");
    const seen = await mailCall(t, "Email/get", { ids: [id], properties: ["mailboxIds", "keywords"] }, alice);
    assert.deepEqual(seen.list, [{
      id,
      mailboxIds: { [team.id as string]: true },
      keywords: { $seen: true },
    }]);
  });
});

Deno.test("a mailbox with emails is destroyed only with onDestroyRemoveEmails; emails also elsewhere stay", async () => {
  await withAliceAndBob(async (t, alice) => {
    const boxes = await mailboxesByName(t, alice);
    const project = await createMailbox(t, alice, { name: "Project" });
    const only = await imported(t, alice, first, { mailboxIds: [project.id as string] });
    const both = await imported(t, alice, reply, {
      mailboxIds: [project.id as string, boxes.Archive.id as string],
    });
    const refused = await mailCall(t, "Mailbox/set", { destroy: [project.id] }, alice);
    const error = (refused.notDestroyed as Record<string, Obj>)[project.id as string];
    assert.equal(error.type, "mailboxHasEmail");
    assert.match(String(error.description), /2 emails/);
    const done = await mailCall(
      t,
      "Mailbox/set",
      { destroy: [project.id], onDestroyRemoveEmails: true },
      alice,
    );
    assert.deepEqual(done.destroyed, [project.id]);
    const left = await mailCall(
      t,
      "Email/get",
      { ids: [only.id, both.id], properties: ["mailboxIds"] },
      alice,
    );
    assert.deepEqual(left.list, [{ id: both.id, mailboxIds: { [boxes.Archive.id as string]: true } }]);
    assert.deepEqual(left.notFound, [only.id]);
  });
});

Deno.test("a sharer's Email/changes and Thread/changes name only what it may read", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const boxes = await mailboxesByName(t, alice);
    await share(t, alice, boxes.Inbox.id as string, { [bob.accountId]: rights("mayReadItems") });
    const asBob = { accountId: alice.accountId };
    const emailState = (await mailCall(t, "Email/get", { ...asBob, ids: [] }, bob)).state as string;
    const threadState = (await mailCall(t, "Thread/get", { ...asBob, ids: [] }, bob)).state as string;
    const shared = await imported(t, alice, first);
    const hidden = await imported(t, alice, message("Subject: private\n\nnot for bob\n"), {
      mailboxIds: [boxes.Archive.id as string],
    });
    const emails = await mailCall(t, "Email/changes", { ...asBob, sinceState: emailState }, bob);
    assert.deepEqual(emails.created, [shared.id]);
    const threads = await mailCall(t, "Thread/changes", { ...asBob, sinceState: threadState }, bob);
    assert.deepEqual(threads.created, [shared.threadId]);
    // Alice moves the shared email out of Bob's reach: for Bob it is gone.
    const before = (await mailCall(t, "Email/get", { ...asBob, ids: [] }, bob)).state as string;
    await setEmails(t, alice, {
      update: {
        [shared.id as string]: {
          [`mailboxIds/${boxes.Inbox.id}`]: null,
          [`mailboxIds/${boxes.Archive.id}`]: true,
        },
      },
    });
    const after = await mailCall(t, "Email/changes", { ...asBob, sinceState: before }, bob);
    assert.deepEqual(after.updated, []);
    assert.deepEqual(after.destroyed, [shared.id]);
    // Alice herself sees everything.
    const own = await mailCall(t, "Email/changes", { sinceState: emailState }, alice);
    assert.deepEqual((own.created as string[]).sort(), [shared.id, hidden.id].sort());
  });
});
