/**
 * Bounces and delay notices are made exactly once (src/mail/queue_notices.ts): each is made and
 * queued in the transaction that marks what it names. A failure injected between recording a
 * failure and making its bounce, or between queueing a notice and delivering it, leaves the notice
 * to the next run; workers making the notices of one message at once make one.
 */
import assert from "node:assert/strict";
import type { NewQueuedMessage } from "../src/store/mod.ts";
import { HOUR, inboxSubjects, MINUTE, SECOND, submitTo, withQueueApp } from "./queue_helpers.ts";

const BOUNCE = "Undelivered Mail Returned to Sender";

Deno.test("a failure between recording a 5xx and making its bounce leaves the bounce to the next run, made once", () =>
  withQueueApp(["550 5.1.1 No such user"], async (t, _transport, alice) => {
    const queue = t.services.store.queue;
    const enqueue = queue.enqueue;
    let injected = 0;
    queue.enqueue = (message: NewQueuedMessage) => {
      if (message.kind === "bounce" && injected++ === 0) throw new Error("injected: the process dies here");
      return enqueue(message);
    };
    await submitTo(t, alice, ["carol@remote.example"], "Doomed");
    const start = Date.now();
    assert.equal(await t.services.queue.runDue(start), 1);
    assert.equal(injected, 1, "the failure was injected");
    assert.deepEqual(await inboxSubjects(t, alice), [], "no bounce yet");
    const [message] = await queue.list({ state: "failed" });
    assert.equal(message.recipients[0].reportedAt, null, "the rolled-back bounce left it unreported");
    assert.equal(await t.services.queue.runDue(start + 2 * MINUTE), 0, "nothing to deliver again");
    assert.deepEqual(await inboxSubjects(t, alice), [BOUNCE], "the next run made the bounce");
    assert.equal(await t.services.queue.runDue(start + 10 * HOUR), 0);
    assert.deepEqual(await inboxSubjects(t, alice), [BOUNCE], "once");
  }));

Deno.test("a bounce queued by a worker that died before delivering it is delivered by the next run, once", () =>
  withQueueApp(["550 5.1.1 No such user"], async (t, _transport, alice) => {
    const queue = t.services.store.queue;
    const claim = queue.claim;
    let injected = 0;
    queue.claim = (messageId, domain, now, until) => {
      if (domain !== "remote.example" && injected++ === 0) throw new Error("injected: the process dies here");
      return claim(messageId, domain, now, until);
    };
    await submitTo(t, alice, ["carol@remote.example"], "Doomed");
    const start = Date.now();
    assert.equal(await t.services.queue.runDue(start), 1);
    assert.equal(injected, 1, "the failure was injected");
    assert.deepEqual(await inboxSubjects(t, alice), [], "queued, not delivered");
    const bounces = (await queue.list({ state: "queued" })).filter((m) => m.kind === "bounce");
    assert.equal(bounces.length, 1, "the bounce waits in the queue");
    assert.equal(bounces[0].mailFrom, "", "with the null sender");
    assert.equal(await t.services.queue.runDue(start + SECOND), 1, "the next run delivers it");
    assert.deepEqual(await inboxSubjects(t, alice), [BOUNCE]);
    assert.equal(await t.services.queue.runDue(start + 10 * HOUR), 0);
    assert.deepEqual(await inboxSubjects(t, alice), [BOUNCE], "once");
  }));

Deno.test("workers making the notices of one message at once make one bounce and one delay notice", () =>
  withQueueApp(["550 5.1.1 No such user", "451 4.3.0 Try later"], async (t, _transport, alice) => {
    const queue = t.services.store.queue;
    const enqueue = queue.enqueue;
    let hold = true;
    queue.enqueue = (message: NewQueuedMessage) => {
      if (message.kind === "bounce" && hold) throw new Error("injected: no notice yet");
      return enqueue(message);
    };
    await submitTo(t, alice, ["carol@remote.example", "dave@elsewhere.example"], "Slow");
    const start = Date.now();
    // One of carol and dave fails (550), the other is deferred (451) and still is after 5 hours.
    assert.equal(await t.services.queue.runDue(start), 2);
    assert.equal(await t.services.queue.runDue(start + 5 * HOUR), 1);
    hold = false;
    const [message] = await queue.list({ state: "failed" });
    assert.ok(message, "a recipient failed");
    const later = start + 5 * HOUR + MINUTE;
    await Promise.all(Array.from({ length: 4 }, () => t.services.queue.notify(message.id, later)));
    const subjects = await inboxSubjects(t, alice);
    assert.equal(subjects.filter((s) => s === BOUNCE).length, 1, JSON.stringify(subjects));
    assert.equal(subjects.length, 2, `one bounce and one delay notice: ${JSON.stringify(subjects)}`);
  }));

Deno.test("a null sender's failure is marked dealt with and bounces to nobody, also on the next run", () =>
  withQueueApp(["550 5.1.1 No such user"], async (t, _transport, alice) => {
    const accountId = (await t.services.accounts.idByLogin("alice@example.org"))!;
    const id = await t.services.outboundQueue.reply(
      accountId,
      "carol@remote.example",
      new TextEncoder().encode(
        "From: alice@example.org\r\nTo: carol@remote.example\r\nSubject: Away\r\n\r\nAway\r\n",
      ),
    );
    assert.equal(await t.services.queue.runDue(), 1);
    const failed = (await t.services.store.queue.get(id))!;
    assert.equal(failed.recipients[0].state, "failed");
    assert.notEqual(failed.recipients[0].reportedAt, null, "marked, so no run looks at it again");
    assert.equal(failed.bouncedAt, null, "no bounce");
    assert.deepEqual(await t.services.store.queue.unreported(Date.now() + HOUR, 10), []);
    assert.deepEqual(await inboxSubjects(t, alice), []);
  }));
