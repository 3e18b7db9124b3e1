/**
 * An operator's cancel reaches the sender: a submission to a remote recipient waits in the queue;
 * CancelQueuedMessages cancels it, the sender's EmailSubmission deliveryStatus says "no" with the
 * reason and its undoStatus "canceled" (nothing was sent; the change is logged, so a StateChange
 * is pushed), and nothing is delivered afterwards (no bounce either: the Inbox stays empty).
 */
import assert from "node:assert/strict";
import { call, set, withApp } from "./jmap_helpers.ts";
import { createUsers, mailboxesByName, type Obj } from "./mail_helpers.ts";
import { call as submissionCall, draft, send } from "./submission_helpers.ts";

Deno.test("canceling a submission's queued message sets its deliveryStatus to no and sends nothing", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const emailId = await draft(t, alice, {
      to: [{ name: null, email: "friend@elsewhere.example" }],
      subject: "Held",
    });
    const sent = await send(t, alice, emailId);
    const submissionId = ((sent.created as Obj).s as Obj).id as string;

    const ids = (await call(t, "x:QueuedMessage/query", { filter: { sender: alice.emailAddress } }))
      .ids as string[];
    assert.equal(ids.length, 1);
    const queued = ((await call(t, "x:QueuedMessage/get", { ids })).list as Obj[])[0];
    assert.equal(queued.kind, "submission");
    assert.deepEqual(Object.values(queued.domains as Obj), ["elsewhere.example"]);

    const before = (await submissionCall(t, alice, "EmailSubmission/get", { ids: [] })).state as string;
    const canceled = await set(t, "x:Action", {
      create: { a: { "@type": "CancelQueuedMessages", ids } },
    });
    assert.equal(((canceled.created as Obj).a as Obj).recipients, 1, JSON.stringify(canceled));

    const submission = ((await submissionCall(t, alice, "EmailSubmission/get", { ids: [submissionId] }))
      .list as Obj[])[0];
    const status = (submission.deliveryStatus as Record<string, Obj>)["friend@elsewhere.example"];
    assert.equal(status.delivered, "no", JSON.stringify(submission));
    assert.equal(status.smtpReply, "550 5.0.0 Delivery canceled by the administrator");
    assert.equal(submission.undoStatus, "canceled", "never tried: nothing was sent");
    const changes = await submissionCall(t, alice, "EmailSubmission/changes", { sinceState: before });
    assert.deepEqual(changes.updated, [submissionId], "the sender is told (a StateChange)");

    // The worker finds nothing to do, now or later, and no bounce is made.
    assert.equal(await t.services.queue.runDue(Date.now() + 7 * 86_400_000), 0);
    const inboxId = (await mailboxesByName(t, alice)).Inbox.id;
    const inbox = await submissionCall(t, alice, "Email/query", { filter: { inMailbox: inboxId } });
    assert.deepEqual(inbox.ids, []);
  });
});
