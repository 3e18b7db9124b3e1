/**
 * The outbound queue's schedule and outcomes (issue 23), driven by the worker's clock: a 4xx is
 * tried again after firstRetrySeconds, then after a doubled wait; a 5xx fails the recipient and
 * bounces once into the sender's Inbox; a message still not delivered after delayNoticeSeconds
 * gets one delay notice, and one past maxAgeSeconds fails ("expired") and bounces. The transport
 * is scripted (queue_helpers.ts); deliveryStatus is read through JMAP.
 */
import assert from "node:assert/strict";
import {
  HOUR,
  inboxSubjects,
  inboxTexts,
  MINUTE,
  SECOND,
  statusOf,
  submission,
  submitTo,
  withQueueApp,
} from "./queue_helpers.ts";
import { set } from "./jmap_helpers.ts";

Deno.test("a 4xx is retried on the schedule and a later 2xx delivers: queued with the reply, then yes", () =>
  withQueueApp(["451 4.3.0 Try again later", "250 2.0.0 Ok: queued as 1A"], async (t, transport, alice) => {
    const id = await submitTo(t, alice, ["carol@remote.example"]);
    const start = Date.now();
    assert.equal((await statusOf(t, alice, id, "carol@remote.example")).delivered, "queued");
    assert.equal(await t.services.queue.runDue(start), 1);
    const deferred = await statusOf(t, alice, id, "carol@remote.example");
    assert.deepEqual([deferred.delivered, deferred.smtpReply], ["queued", "451 4.3.0 Try again later"]);
    assert.equal((await submission(t, alice, id)).undoStatus, "final", "tried: no longer cancelable");
    assert.equal(await t.services.queue.runDue(start + 5 * MINUTE - 1), 0, "not before firstRetrySeconds");
    assert.equal(await t.services.queue.runDue(start + 5 * MINUTE), 1);
    const delivered = await statusOf(t, alice, id, "carol@remote.example");
    assert.deepEqual([delivered.delivered, delivered.smtpReply], ["yes", "250 2.0.0 Ok: queued as 1A"]);
    assert.equal(transport.asked.length, 2);
    assert.deepEqual(transport.asked.map((a) => a.route), [{ kind: "mx" }, { kind: "mx" }]);
    assert.equal(transport.asked[0].message.mailFrom, "alice@example.org");
    assert.match(transport.asked[0].message.envelopeId ?? "", /^postern-\d+$/);
    assert.match(new TextDecoder().decode(transport.asked[0].message.message), /^DKIM-Signature: /m);
    assert.equal(await t.services.queue.runDue(start + 10 * HOUR), 0, "nothing left");
    assert.deepEqual(await inboxSubjects(t, alice), [], "no bounce, no delay notice");
  }));

Deno.test("the waits double from firstRetrySeconds up to maxRetrySeconds", () =>
  withQueueApp(["421 4.7.0 Busy"], async (t, transport, alice) => {
    await submitTo(t, alice, ["carol@remote.example"]);
    let now = Date.now();
    assert.equal(await t.services.queue.runDue(now), 1);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const [row] = (await t.services.store.queue.list())[0].recipients;
      waits.push((row.nextAttemptAt - now) / MINUTE);
      now = row.nextAttemptAt;
      assert.equal(await t.services.queue.runDue(now - 1), 0, "not early");
      assert.equal(await t.services.queue.runDue(now), 1);
    }
    assert.deepEqual(waits, [5, 10, 20, 40, 80, 160, 240, 240]);
    assert.equal(transport.asked.length, 9);
  }));

Deno.test("a 5xx fails the recipient at once and bounces into the sender's Inbox once", () =>
  withQueueApp(
    ["550 5.1.1 <carol@remote.example>: Recipient address rejected"],
    async (t, _transport, alice) => {
      const id = await submitTo(t, alice, ["carol@remote.example"], "Doomed");
      assert.equal(await t.services.queue.runDue(), 1);
      const failed = await statusOf(t, alice, id, "carol@remote.example");
      assert.equal(failed.delivered, "no");
      assert.match(String(failed.smtpReply), /^550 5\.1\.1 /);
      assert.deepEqual(await inboxSubjects(t, alice), ["Undelivered Mail Returned to Sender"]);
      assert.equal(await t.services.queue.runDue(Date.now() + 10 * HOUR), 0, "never tried again");
      assert.deepEqual(await inboxSubjects(t, alice), ["Undelivered Mail Returned to Sender"], "one bounce");
    },
  ));

Deno.test("a bounce names the recipients that failed, as soon as they fail, and only them", () =>
  withQueueApp(["550 5.1.1 No such user", "250 2.0.0 Ok"], async (t, transport, alice) => {
    const id = await submitTo(t, alice, ["carol@one.example", "dave@two.example"]);
    assert.equal(await t.services.queue.runDue(), 2);
    const failed = transport.asked[0].domain === "one.example" ? "carol@one.example" : "dave@two.example";
    assert.equal((await statusOf(t, alice, id, failed)).delivered, "no");
    assert.deepEqual(await inboxSubjects(t, alice), ["Undelivered Mail Returned to Sender"]);
    const delivered = failed === "carol@one.example" ? "dave@two.example" : "carol@one.example";
    const [text] = await inboxTexts(t, alice);
    assert.match(text, new RegExp(`<${failed}>: 550 5\\.1\\.1 No such user`));
    assert.ok(!text.includes(delivered), text);
  }));

Deno.test("a recipient failing while another is still retried is bounced at once; the other later, in its own bounce", () =>
  withQueueApp(
    ["550 5.1.1 No such user", "451 4.4.1 Try later", "550 5.1.1 Gone too"],
    async (t, transport, alice) => {
      const id = await submitTo(t, alice, ["carol@one.example", "dave@two.example"]);
      const start = Date.now();
      assert.equal(await t.services.queue.runDue(start), 2);
      const first = transport.asked[0].domain === "one.example" ? "carol@one.example" : "dave@two.example";
      const second = first === "carol@one.example" ? "dave@two.example" : "carol@one.example";
      assert.equal((await statusOf(t, alice, id, first)).delivered, "no");
      assert.equal((await statusOf(t, alice, id, second)).delivered, "queued");
      const [text] = await inboxTexts(t, alice);
      assert.match(text, new RegExp(`<${first}>: 550 5\\.1\\.1 No such user`));
      assert.ok(!text.includes(second), text);

      assert.equal(await t.services.queue.runDue(start + 6 * MINUTE), 1);
      assert.equal((await statusOf(t, alice, id, second)).delivered, "no");
      assert.deepEqual(await inboxSubjects(t, alice), [
        "Undelivered Mail Returned to Sender",
        "Undelivered Mail Returned to Sender",
      ]);
      const later = (await inboxTexts(t, alice)).find((body) => body.includes("Gone too"))!;
      assert.match(later, new RegExp(`<${second}>`));
      assert.ok(!later.includes(first), "each failed recipient is named in one bounce");
    },
  ));

Deno.test("perDomainRateDelaySeconds spaces the deliveries to one domain; other domains are not held back", () =>
  withQueueApp(["250 2.0.0 Ok"], async (t, transport, alice) => {
    await set(t, "x:Outbound", { update: { singleton: { perDomainRateDelaySeconds: 60 } } });
    await submitTo(t, alice, ["carol@one.example"], "First");
    await submitTo(t, alice, ["dave@one.example"], "Second");
    await submitTo(t, alice, ["erin@two.example"], "Other domain");
    const start = Date.now();
    assert.equal(await t.services.queue.runDue(start), 2, "one per domain");
    assert.equal(await t.services.queue.runDue(start + 30 * SECOND), 0, "one.example waits its minute");
    assert.equal(await t.services.queue.runDue(start + 61 * SECOND), 1);
    assert.deepEqual(transport.asked.map((a) => a.domain).sort(), [
      "one.example",
      "one.example",
      "two.example",
    ]);
  }));

Deno.test("bad input: perDomainRateDelaySeconds is refused outside 0–3600, naming the property", () =>
  withQueueApp(["250 2.0.0 Ok"], async (t) => {
    for (const value of [-1, 3601, 1.5, "60"]) {
      const answer = await set(t, "x:Outbound", {
        update: { singleton: { perDomainRateDelaySeconds: value } },
      });
      const notUpdated = (answer.notUpdated as Record<string, Record<string, unknown>>).singleton;
      assert.equal(notUpdated.type, "invalidProperties", String(value));
      assert.deepEqual(notUpdated.properties, ["perDomainRateDelaySeconds"]);
    }
  }));

Deno.test("a message still deferred after delayNoticeSeconds gets one delay notice; past maxAgeSeconds it expires and bounces", () =>
  withQueueApp(["451 4.4.1 Connection refused"], async (t, _transport, alice) => {
    const id = await submitTo(t, alice, ["carol@remote.example"], "Patient");
    const start = Date.now();
    assert.equal(await t.services.queue.runDue(start), 1);
    assert.deepEqual(await inboxSubjects(t, alice), [], "no notice before four hours");
    assert.equal(await t.services.queue.runDue(start + 4 * HOUR + MINUTE), 1);
    assert.deepEqual(await inboxSubjects(t, alice), ["Delayed Mail (still being retried)"]);
    assert.equal(await t.services.queue.runDue(start + 9 * HOUR), 1);
    assert.deepEqual(await inboxSubjects(t, alice), ["Delayed Mail (still being retried)"], "one notice");
    // Five days: the last attempt is due at the expiry at the latest, and fails the recipient.
    const expiry = start + 5 * 24 * HOUR + MINUTE;
    while (await t.services.queue.runDue(expiry) > 0) {
      if ((await statusOf(t, alice, id, "carol@remote.example")).delivered === "no") break;
    }
    const expired = await statusOf(t, alice, id, "carol@remote.example");
    assert.equal(expired.delivered, "no");
    assert.match(
      String(expired.smtpReply),
      /^451 4\.4\.1 Connection refused \(expired: undelivered after 5 days\)$/,
    );
    assert.deepEqual(await inboxSubjects(t, alice), [
      "Delayed Mail (still being retried)",
      "Undelivered Mail Returned to Sender",
    ]);
  }));
