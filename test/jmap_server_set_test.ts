/**
 * Server-set and immutable properties in every /set update (RFC 8620 §5.3): written back unchanged
 * they are no change; given with another value the update is invalidProperties naming each of them,
 * and nothing changes. Mailbox has its own test in jmap_mailbox_test.ts, PushSubscription in
 * jmap_push_subscription_test.ts.
 */
import assert from "node:assert/strict";
import { imported, message } from "./email_helpers.ts";
import { call as adminCall, notUpdated, set, withApp } from "./jmap_helpers.ts";
import { createUsers, mailCall, type Obj } from "./mail_helpers.ts";
import { call, draft } from "./submission_helpers.ts";

// RFC 8620 §5.3: "Any server-set properties MAY be included in the patch if their value is identical to
// the current server value (before applying the patches to the object). Otherwise, the update MUST be
// rejected with an invalidProperties SetError."
function refused(result: Obj, id: string, properties: string[], label: string): void {
  assert.equal(result.updated, null, `${label}: ${JSON.stringify(result)}`);
  const error = (result.notUpdated as Record<string, Obj>)[id];
  assert.equal(error?.type, "invalidProperties", `${label}: ${JSON.stringify(result)}`);
  assert.deepEqual([...(error.properties as string[])].sort(), [...properties].sort(), label);
}

function accepted(result: Obj, id: string, label: string): void {
  assert.equal(result.notUpdated, null, `${label}: ${JSON.stringify(result)}`);
  assert.ok(Object.hasOwn(result.updated as Obj, id), `${label}: ${JSON.stringify(result)}`);
}

Deno.test("Email, Identity, EmailSubmission and VacationResponse updates refuse changed server-set or immutable properties and accept them unchanged (RFC 8620 §5.3)", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const email = await imported(t, alice, message("Subject: server-set\n\nbody\n"));
    const id = email.id as string;
    const [current] = (await mailCall(t, "Email/get", {
      ids: [id],
      properties: ["blobId", "threadId", "size", "receivedAt"],
    }, alice)).list as Obj[];
    const changedEmail = await mailCall(t, "Email/set", {
      update: {
        [id]: { size: 1, threadId: "zzzz", receivedAt: "2000-01-01T00:00:00Z", "keywords/$flagged": true },
      },
    }, alice);
    refused(changedEmail, id, ["size", "threadId", "receivedAt"], "Email");
    const { id: _, ...same } = current;
    accepted(
      await mailCall(t, "Email/set", { update: { [id]: { ...same, "keywords/$flagged": true } } }, alice),
      id,
      "Email unchanged",
    );

    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const identityId = identity.id as string;
    refused(
      await call(t, alice, "Identity/set", { update: { [identityId]: { mayDelete: !identity.mayDelete } } }),
      identityId,
      ["mayDelete"],
      "Identity",
    );
    accepted(
      await call(t, alice, "Identity/set", {
        update: { [identityId]: { mayDelete: identity.mayDelete, name: "Alice" } },
      }),
      identityId,
      "Identity unchanged",
    );

    const sent = await call(t, alice, "EmailSubmission/set", {
      create: {
        s: {
          identityId,
          emailId: await draft(t, alice, { to: [{ name: null, email: "alice@example.org" }] }),
        },
      },
    });
    const submissionId = (sent.created as Record<string, Obj>).s.id as string;
    const [submission] = (await call(t, alice, "EmailSubmission/get", { ids: [submissionId] })).list as Obj[];
    refused(
      await call(t, alice, "EmailSubmission/set", {
        update: { [submissionId]: { sendAt: "2000-01-01T00:00:00Z", threadId: "zzzz" } },
      }),
      submissionId,
      ["sendAt", "threadId"],
      "EmailSubmission",
    );
    refused(
      await call(t, alice, "EmailSubmission/set", { update: { [submissionId]: { deliveryStatus: null } } }),
      submissionId,
      ["deliveryStatus"],
      "EmailSubmission deliveryStatus",
    );
    accepted(
      await call(t, alice, "EmailSubmission/set", {
        update: { [submissionId]: { sendAt: submission.sendAt, threadId: submission.threadId } },
      }),
      submissionId,
      "EmailSubmission unchanged",
    );

    refused(
      await call(t, alice, "VacationResponse/set", {
        update: { singleton: { id: "other", isEnabled: true } },
      }),
      "singleton",
      ["id"],
      "VacationResponse",
    );
  });
});

Deno.test("a management object refuses a changed server-set field (x:Domain createdAt) and accepts it unchanged (RFC 8620 §5.3)", async () => {
  await withApp(async (t) => {
    const domain = ((await adminCall(t, "x:Domain/get", { ids: ["b"] })).list as Obj[])[0];
    const error = await notUpdated(t, "x:Domain", "b", { createdAt: "2000-01-01T00:00:00Z" });
    assert.equal(error.type, "invalidProperties", JSON.stringify(error));
    assert.deepEqual(error.properties, ["createdAt"]);
    accepted(
      await set(t, "x:Domain", { update: { b: { createdAt: domain.createdAt, description: "main" } } }),
      "b",
      "x:Domain unchanged",
    );
    const after = ((await adminCall(t, "x:Domain/get", { ids: ["b"] })).list as Obj[])[0];
    assert.equal(after.createdAt, domain.createdAt);
    assert.equal(after.description, "main");
  });
});
