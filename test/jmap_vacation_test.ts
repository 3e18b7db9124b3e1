/**
 * VacationResponse (RFC 8621 §8): the singleton per account and its effect on local delivery. A
 * submission from A to B, who is away, lands in B's Inbox and B's automatic reply reaches A once
 * per period, in the thread of A's sent message; automatic mail, lists and dates outside the range
 * get no reply.
 */
import assert from "node:assert/strict";
import { getEmail } from "./email_helpers.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import { createUsers, mailboxesByName, mailCall, type Obj, type Who } from "./mail_helpers.ts";
import { call, draft, send } from "./submission_helpers.ts";

const inboxIds = async (t: TestApp, who: Who) =>
  (await mailCall(t, "Email/query", { filter: { inMailbox: (await mailboxesByName(t, who)).Inbox.id } }, who))
    .ids as string[];

const away = (t: TestApp, who: Who, patch: Obj) =>
  call(t, who, "VacationResponse/set", { update: { singleton: patch } });

Deno.test("the vacation response is one singleton per account: read, updated, never created or destroyed", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const got = await call(t, alice, "VacationResponse/get", { ids: null });
    assert.deepEqual(got.list, [{
      id: "singleton",
      isEnabled: false,
      fromDate: null,
      toDate: null,
      subject: null,
      textBody: null,
      htmlBody: null,
    }]);
    const refused = await call(t, alice, "VacationResponse/set", {
      create: { v: { isEnabled: true } },
      destroy: ["singleton"],
    });
    assert.equal((refused.notCreated as Record<string, Obj>).v.type, "singleton");
    assert.equal((refused.notDestroyed as Record<string, Obj>).singleton.type, "singleton");
    const set = await call(t, alice, "VacationResponse/set", {
      update: { singleton: { isEnabled: true, fromDate: "2026-12-20T00:00:00Z", subject: "Away" } },
    });
    assert.deepEqual(set.updated, { singleton: null });
    assert.notEqual(set.newState, set.oldState);
    const after = await call(t, alice, "VacationResponse/get", { ids: ["singleton", "other"] });
    assert.deepEqual(after.notFound, ["other"]);
    const [v] = after.list as Obj[];
    assert.equal(v.isEnabled, true);
    assert.equal(v.fromDate, "2026-12-20T00:00:00Z");
    assert.equal(v.subject, "Away");

    const bad = await call(t, alice, "VacationResponse/set", {
      update: { singleton: { fromDate: "next week", isEnabled: "yes" } },
    });
    const error = (bad.notUpdated as Record<string, Obj>).singleton;
    assert.equal(error.type, "invalidProperties");
    assert.match(String(error.description), /UTCDate|true or false/);
    // A date that does not exist (Date.parse would roll it over to 2 March) is refused, not moved.
    const rolled = await call(t, alice, "VacationResponse/set", {
      update: { singleton: { toDate: "2027-02-30T00:00:00Z" } },
    });
    assert.deepEqual((rolled.notUpdated as Record<string, Obj>).singleton.properties, ["toDate"]);
    const backwards = await away(t, alice, {
      fromDate: "2026-12-20T00:00:00Z",
      toDate: "2026-12-10T00:00:00Z",
    });
    assert.deepEqual((backwards.notUpdated as Record<string, Obj>).singleton.properties, ["toDate"]);
  });
});

Deno.test("A writes to B, who is away: B gets the mail, and B's vacation response reaches A once, in the thread", async () => {
  await withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await away(t, bob, {
      isEnabled: true,
      fromDate: new Date(Date.now() - 3_600_000).toISOString(),
      toDate: null,
      textBody: "I am away until January.",
    });
    const first = await draft(t, alice, {
      to: [{ name: null, email: "bob@example.org" }],
      subject: "Budget",
    });
    assert.ok((await send(t, alice, first)).created);
    assert.equal((await inboxIds(t, bob)).length, 1, "B gets the mail");
    const replies = await inboxIds(t, alice);
    assert.equal(replies.length, 1, "the vacation response reaches A");
    const reply = await getEmail(t, alice, replies[0], {
      properties: ["subject", "from", "threadId", "header:Auto-Submitted:asText", "bodyValues", "textBody"],
      fetchTextBodyValues: true,
    });
    assert.equal(reply.subject, "Auto: Budget");
    assert.deepEqual(reply.from, [{ name: null, email: "bob@example.org" }]);
    assert.equal(reply["header:Auto-Submitted:asText"], "auto-replied");
    const text = Object.values(reply.bodyValues as Record<string, Obj>)[0].value as string;
    assert.match(text, /away until January/);
    const sent = await getEmail(t, alice, first, { properties: ["threadId"] });
    assert.equal(reply.threadId, sent.threadId, "the reply joins the conversation");

    // A writes again in the same period: no second reply.
    const second = await draft(t, alice, {
      to: [{ name: null, email: "bob@example.org" }],
      subject: "Budget 2",
    });
    await send(t, alice, second);
    assert.equal((await inboxIds(t, bob)).length, 2);
    assert.equal((await inboxIds(t, alice)).length, 1, "once per sender per period");

    // B changes the response: a new period, so A is answered again.
    await away(t, bob, { subject: "Out of office" });
    const third = await draft(t, alice, {
      to: [{ name: null, email: "bob@example.org" }],
      subject: "Budget 3",
    });
    await send(t, alice, third);
    const now = await inboxIds(t, alice);
    assert.equal(now.length, 2);
    const subjects = await Promise.all(
      now.map(async (id) => (await getEmail(t, alice, id, { properties: ["subject"] })).subject),
    );
    assert.ok(subjects.includes("Out of office"), JSON.stringify(subjects));
  });
});

Deno.test("no vacation reply to automatic mail, to lists, outside the dates, when disabled, or to a blind copy", async () => {
  await withApp(async (t) => {
    const [alice, bob, carol] = await createUsers(t, ["alice", "bob", "carol"]);
    const mail = async (fields: Obj) => {
      const id = await draft(t, alice, { to: [{ name: null, email: "bob@example.org" }], ...fields });
      assert.ok((await send(t, alice, id)).created);
    };
    // Inside no range: starts tomorrow.
    await away(t, bob, { isEnabled: true, fromDate: new Date(Date.now() + 86_400_000).toISOString() });
    await mail({ subject: "too early" });
    // Ended yesterday.
    await away(t, bob, { fromDate: null, toDate: new Date(Date.now() - 86_400_000).toISOString() });
    await mail({ subject: "too late" });
    // In range, but the mail is automatic or from a list.
    await away(t, bob, { toDate: null });
    await mail({ subject: "robot", "header:Auto-Submitted": " auto-generated" });
    await mail({ subject: "news", "header:List-Id": " <news.example.org>" });
    await mail({ subject: "bulk", "header:Precedence": " bulk" });
    // Bob only blind-copied: he is not a direct recipient.
    await mail({
      subject: "bcc",
      to: [{ name: null, email: "carol@example.org" }],
      bcc: [{ name: null, email: "bob@example.org" }],
    });
    assert.equal((await inboxIds(t, bob)).length, 6, "every message is delivered");
    assert.equal((await inboxIds(t, carol)).length, 1);
    assert.deepEqual(await inboxIds(t, alice), [], "none is answered");
    // Disabled: nothing either; enabled again: answered.
    await away(t, bob, { isEnabled: false });
    await mail({ subject: "off" });
    assert.deepEqual(await inboxIds(t, alice), []);
    await away(t, bob, { isEnabled: true });
    await mail({ subject: "on" });
    assert.equal((await inboxIds(t, alice)).length, 1);
  });
});

Deno.test("a vacation response belongs to its account: a shared account's is forbidden", async () => {
  await withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const response = await t.fetch("/jmap", {
      method: "POST",
      headers: { authorization: alice.auth, "content-type": "application/json" },
      body: JSON.stringify({
        using: [
          "urn:ietf:params:jmap:core",
          "urn:ietf:params:jmap:mail",
          "urn:ietf:params:jmap:vacationresponse",
        ],
        methodCalls: [["VacationResponse/get", { accountId: bob.accountId }, "0"]],
      }),
    });
    const [[name, result]] = (await response.json()).methodResponses;
    assert.equal(name, "error");
    assert.match(String(result.type), /accountNotFound|forbidden/);
  });
});
