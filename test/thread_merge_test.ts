/**
 * Threading beyond the subject (issue 20, "Beyond the letter"): a reply whose subject changed joins
 * the thread of the message it names, and an email that links two threads merges them, with the
 * moved emails' new threadId visible through Email/changes and Thread/changes. The rule is in
 * src/store/threading.ts.
 *
 * RFC 8621 §3: "Replies are grouped with their parent message in a thread ... the server MAY merge
 * the threads" and, when it does, "emails ... will have their threadId changed".
 */
import assert from "node:assert/strict";
import { imported } from "./email_helpers.ts";
import { mailCall, withAliceAndBob } from "./mail_helpers.ts";
import { message } from "./email_helpers.ts";

function mail(headers: string): Uint8Array<ArrayBuffer> {
  return message(`From: a@example.org\nTo: b@example.org\n${headers}\n\nbody\n`);
}

Deno.test("a reply with a changed subject joins the thread of the message its In-Reply-To names", () =>
  withAliceAndBob(async (t, alice) => {
    const parent = await imported(t, alice, mail("Message-ID: <p1@x>\nSubject: Plans for May"));
    const reply = await imported(
      t,
      alice,
      mail("Message-ID: <r1@x>\nIn-Reply-To: <p1@x>\nSubject: Re: Budget instead (was: Plans)"),
    );
    assert.equal(reply.threadId, parent.threadId);
    // Sharing only a quoted message (neither names the other) with another subject still keeps apart.
    const other = await imported(t, alice, mail("Message-ID: <o1@x>\nReferences: <old@x>\nSubject: Lunch"));
    const unrelated = await imported(
      t,
      alice,
      mail("Message-ID: <o2@x>\nReferences: <old@x>\nSubject: Taxes"),
    );
    assert.notEqual(unrelated.threadId, other.threadId);
  }));

Deno.test("a parent arriving after its renamed reply merges their threads, seen in Email/ and Thread/changes", () =>
  withAliceAndBob(async (t, alice) => {
    const root = await imported(t, alice, mail("Message-ID: <a@x>\nSubject: Plans"));
    // The grandchild first: it names <b@x>, which nobody here carries yet, and has a new subject.
    const late = await imported(t, alice, mail("Message-ID: <c@x>\nIn-Reply-To: <b@x>\nSubject: Dates"));
    assert.notEqual(late.threadId, root.threadId);
    const emailState = (await mailCall(t, "Email/get", { ids: [] }, alice)).state as string;
    const threadState = (await mailCall(t, "Thread/get", { ids: [] }, alice)).state as string;
    // <b@x> replies to <a@x> and is named by <c@x>: it links both threads into one.
    const middle = await imported(
      t,
      alice,
      mail("Message-ID: <b@x>\nIn-Reply-To: <a@x>\nReferences: <a@x>\nSubject: Re: Plans"),
    );
    assert.equal(middle.threadId, root.threadId);
    const got = await mailCall(t, "Email/get", {
      ids: [root.id, middle.id, late.id],
      properties: ["threadId"],
    }, alice);
    assert.deepEqual((got.list as { threadId: string }[]).map((e) => e.threadId), [
      root.threadId,
      root.threadId,
      root.threadId,
    ]);
    const thread = await mailCall(t, "Thread/get", { ids: [root.threadId, late.threadId] }, alice);
    assert.deepEqual(
      (thread.list as { emailIds: string[] }[])[0].emailIds.sort(),
      [root.id, middle.id, late.id].sort(),
    );
    assert.deepEqual(thread.notFound, [late.threadId]);
    const emailChanges = await mailCall(t, "Email/changes", { sinceState: emailState }, alice);
    assert.deepEqual(emailChanges.created, [middle.id]);
    assert.deepEqual(emailChanges.updated, [late.id]);
    const threadChanges = await mailCall(t, "Thread/changes", { sinceState: threadState }, alice);
    assert.deepEqual(threadChanges.updated, [root.threadId]);
    assert.deepEqual(threadChanges.destroyed, [late.threadId]);
    // The mailbox counts follow: one thread of three emails.
    const inbox = (await mailCall(t, "Mailbox/query", { filter: { role: "inbox" } }, alice)).ids as string[];
    const box =
      ((await mailCall(t, "Mailbox/get", { ids: inbox }, alice)).list as Record<string, unknown>[])[0];
    assert.deepEqual([box.totalEmails, box.totalThreads], [3, 1]);
  }));
