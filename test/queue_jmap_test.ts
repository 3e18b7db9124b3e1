/**
 * The outbound queue seen through JMAP (RFC 8621 §7): a submission's deliveryStatus follows the
 * queue and every change of it is pushed as a StateChange; undoStatus can be set to canceled while
 * the queue has not tried any recipient; queueing commits with the submission or not at all; a
 * vacation reply to a sender elsewhere is queued with the null sender, and nothing bounces it.
 */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import type { Obj, Who } from "./mail_helpers.ts";
import { inboxSubjects, statusOf, submission, submitTo, withQueueApp } from "./queue_helpers.ts";
import { CORE, MAIL } from "./jmap_helpers.ts";
import { call, draft, SUBMISSION } from "./submission_helpers.ts";

/** Reads StateChange events from the account's event stream until one names EmailSubmission. */
async function nextSubmissionChange(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  seen: { buffer: string },
) {
  const decoder = new TextDecoder();
  for (;;) {
    const end = seen.buffer.indexOf("\n\n");
    if (end !== -1) {
      const block = seen.buffer.slice(0, end);
      seen.buffer = seen.buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(block)?.[1];
      const changed = data ? JSON.parse(data).changed as Record<string, Record<string, string>> : {};
      const state = Object.values(changed ?? {}).map((types) => types.EmailSubmission).find(Boolean);
      if (state) return state;
      continue;
    }
    const chunk = await reader.read();
    if (chunk.done) throw new Error("The event stream ended");
    seen.buffer += decoder.decode(chunk.value, { stream: true });
  }
}

const cancel = (t: TestApp, who: Who, id: string) =>
  call(t, who, "EmailSubmission/set", { update: { [id]: { undoStatus: "canceled" } } });

Deno.test("deliveryStatus follows the queue, and each change is pushed as an EmailSubmission StateChange", () =>
  withQueueApp(["451 4.3.0 Later", "250 2.0.0 Ok"], async (t, _transport, alice) => {
    const response = await t.fetch("/jmap/eventsource/?types=EmailSubmission&closeafter=no&ping=0", {
      headers: { authorization: alice.auth },
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const seen = { buffer: "" };
    try {
      const id = await submitTo(t, alice, ["carol@remote.example"]);
      const created = await nextSubmissionChange(reader, seen);
      const start = Date.now();
      await t.services.queue.runDue(start);
      const deferred = await nextSubmissionChange(reader, seen);
      assert.notEqual(deferred, created);
      assert.equal((await statusOf(t, alice, id, "carol@remote.example")).smtpReply, "451 4.3.0 Later");
      const changes = await call(t, alice, "EmailSubmission/changes", { sinceState: created });
      assert.deepEqual(changes.updated, [id]);
      assert.equal(changes.newState, deferred);
      await t.services.queue.runDue(start + 5 * 60_000);
      assert.notEqual(await nextSubmissionChange(reader, seen), deferred);
      assert.equal((await statusOf(t, alice, id, "carol@remote.example")).delivered, "yes");
    } finally {
      await reader.cancel();
    }
  }));

Deno.test("a submission whose recipients are all still queued can be canceled, and is never sent; once tried it cannot", () =>
  withQueueApp(["451 4.3.0 Later"], async (t, transport, alice) => {
    const id = await submitTo(t, alice, ["carol@remote.example", "dave@remote.example"]);
    assert.equal((await submission(t, alice, id)).undoStatus, "pending");
    assert.deepEqual((await cancel(t, alice, id)).updated, { [id]: null });
    const canceled = await submission(t, alice, id);
    assert.equal(canceled.undoStatus, "canceled");
    assert.equal((canceled.deliveryStatus as Record<string, Obj>)["carol@remote.example"].delivered, "no");
    assert.equal(await t.services.queue.runDue(Date.now() + 3_600_000), 0);
    assert.equal(transport.asked.length, 0, "nothing was sent");
    assert.deepEqual(
      (await t.services.store.queue.list())[0].recipients.map((r) => r.state),
      ["canceled", "canceled"],
    );

    const tried = await submitTo(t, alice, ["erin@remote.example"]);
    assert.equal(await t.services.queue.runDue(), 1);
    const refused = await cancel(t, alice, tried);
    assert.equal((refused.notUpdated as Record<string, Obj>)[tried].type, "cannotUnsend");
    assert.equal((await submission(t, alice, tried)).undoStatus, "final");
  }));

Deno.test("a submission with local and remote recipients is final at once: local copies are made, remote ones queued", () =>
  withQueueApp(["250 2.0.0 Ok"], async (t, _transport, alice, bob) => {
    const id = await submitTo(t, alice, ["bob@example.org", "carol@remote.example"], "Mixed");
    const made = await submission(t, alice, id);
    assert.equal(made.undoStatus, "final");
    const statuses = made.deliveryStatus as Record<string, Obj>;
    assert.equal(statuses["bob@example.org"].delivered, "yes");
    assert.equal(statuses["carol@remote.example"].delivered, "queued");
    assert.deepEqual(await inboxSubjects(t, bob), ["Mixed"]);
    assert.equal(await t.services.queue.runDue(), 1);
    assert.equal((await statusOf(t, alice, id, "carol@remote.example")).delivered, "yes");
    assert.equal((await statusOf(t, alice, id, "bob@example.org")).delivered, "yes", "kept");
  }));

Deno.test("queueing commits with the submission: a failure of either leaves neither", () =>
  withQueueApp(["250 2.0.0 Ok"], async (t, _transport, alice) => {
    const queue = t.services.store.queue;
    const enqueue = queue.enqueue;
    const changes = t.services.store.changes;
    const append = changes.append;
    const identity = ((await call(t, alice, "Identity/get", { ids: null })).list as Obj[])[0];
    const attempt = async (inject: () => void) => {
      const before = (await call(t, alice, "EmailSubmission/get", { ids: null })).list as Obj[];
      const emailId = await draft(t, alice, { to: [{ name: null, email: "carol@remote.example" }] });
      inject();
      const response = await t.fetch("/jmap", {
        method: "POST",
        headers: { authorization: alice.auth, "content-type": "application/json" },
        body: JSON.stringify({
          using: [CORE, MAIL, SUBMISSION],
          methodCalls: [["EmailSubmission/set", {
            accountId: alice.accountId,
            create: { s: { identityId: identity.id, emailId } },
          }, "0"]],
        }),
      });
      assert.equal(response.status, 200);
      const [[name, answer]] = (await response.json()).methodResponses;
      queue.enqueue = enqueue;
      changes.append = append;
      const after = (await call(t, alice, "EmailSubmission/get", { ids: null })).list as Obj[];
      return {
        created: name === "EmailSubmission/set" && answer.created !== null,
        added: after.length - before.length,
        queued: (await queue.list()).length,
      };
    };
    try {
      // The queue refuses: the submission is not recorded.
      const refused = await attempt(() => {
        queue.enqueue = () => Promise.reject(new Error("injected: the queue cannot take it"));
      });
      assert.deepEqual([refused.created, refused.added, refused.queued], [false, 0, 0]);
      // The write fails after both rows were made (logging the change): neither stays.
      const failed = await attempt(() => {
        changes.append = () => Promise.reject(new Error("injected: the change log fails"));
      });
      assert.deepEqual([failed.created, failed.added, failed.queued], [false, 0, 0]);
    } finally {
      queue.enqueue = enqueue;
      changes.append = append;
    }
    const fine = await attempt(() => {});
    assert.deepEqual([fine.created, fine.added, fine.queued], [true, 1, 1]);
  }));

Deno.test("a vacation reply to a sender elsewhere is queued with the null sender; its failure bounces to nobody", () =>
  withQueueApp(["550 5.1.1 No such user"], async (t, transport, alice) => {
    await call(t, alice, "VacationResponse/set", {
      update: { singleton: { isEnabled: true, subject: "Away", textBody: "Back next week" } },
    });
    const accountId = await t.services.accounts.idByLogin("alice@example.org");
    const message = new TextEncoder().encode(
      "From: Stranger <stranger@elsewhere.example>\r\nTo: alice@example.org\r\nSubject: Hi\r\n" +
        "Message-ID: <1@elsewhere.example>\r\n\r\nHello\r\n",
    );
    await t.services.inbound.deliver({
      mailFrom: "stranger@elsewhere.example",
      recipients: [{ address: "alice@example.org", accountIds: [accountId!] }],
      message,
      received: () => "Received: from test by example.org; Sun, 6 Dec 2026 12:00:00 +0000\r\n",
    });
    const [queued] = await t.services.store.queue.list();
    assert.ok(queued, "the reply is queued");
    assert.deepEqual(
      [queued.kind, queued.mailFrom, queued.recipients.map((r) => r.recipient)],
      ["vacation", "", ["stranger@elsewhere.example"]],
    );
    assert.equal(await t.services.queue.runDue(), 1);
    assert.equal(transport.asked[0].message.mailFrom, "");
    assert.match(new TextDecoder().decode(transport.asked[0].message.message), /^Subject: Away\r$/m);
    assert.equal((await t.services.store.queue.get(queued.id))!.recipients[0].state, "failed");
    assert.equal((await t.services.store.queue.get(queued.id))!.bouncedAt, null, "no bounce for a bounce");
    assert.deepEqual(await inboxSubjects(t, alice), ["Hi"], "only the message itself");
  }));
