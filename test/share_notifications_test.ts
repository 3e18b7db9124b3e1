/**
 * ShareNotification (RFC 9670): a user whose rights on a shared mailbox change finds a notification
 * in their own account, with who changed what from which rights to which; they read, query, follow
 * and dismiss them; they outlive the mailbox and go with the notified account.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { decodeId } from "../src/model/ids.ts";
import type { TestApp } from "./helpers.ts";
import { withApp } from "./jmap_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  createUsers,
  mailboxesByName,
  mailCall,
  mailRequest,
  type Obj,
  rights,
  setOutcome,
  share,
  type Who,
} from "./mail_helpers.ts";

/** MailboxRights with nothing granted. */
const NONE = rights();

/** Every share notification of `who`, oldest first. */
async function notifications(t: TestApp, who: Who): Promise<Obj[]> {
  const ids = (await mailCall(t, "ShareNotification/query", { sort: [{ property: "created" }] }, who))
    .ids as string[];
  const { list } = await mailCall(t, "ShareNotification/get", { ids }, who);
  return list as Obj[];
}

/** The ShareNotification state of `who`. */
async function state(t: TestApp, who: Who): Promise<string> {
  return (await mailCall(t, "ShareNotification/get", { ids: [] }, who)).state as string;
}

/** The notification's parts a user reads, without its id and time. */
function gist(n: Obj): Obj {
  const { id: _id, created: _created, ...rest } = n;
  return rest;
}

/** Share notification rows of an account, read from the database file without writing it. */
function storedRows(t: TestApp, accountId: string): number {
  const db = new DatabaseSync(`${t.dataDir}/postern.db`, { readOnly: true });
  try {
    const row = db.prepare("SELECT count(*) AS n FROM share_notifications WHERE account_id = ?")
      .get(decodeId(accountId)!) as { n: number };
    return Number(row.n);
  } finally {
    db.close();
  }
}

Deno.test("sharing, changing and revoking rights each leave the grantee a notification with the old and new rights", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await adminSetAccounts(t, { update: { [alice.accountId]: { description: "Alice Liddell" } } });
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    const s0 = await state(t, bob);
    const changedBy = { name: "Alice Liddell", email: "alice@example.org", principalId: alice.accountId };
    const about = { objectType: "Mailbox", objectAccountId: alice.accountId, objectId: inbox, name: "Inbox" };

    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems") });
    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems", "mayAddItems") });
    // The same rights again change nothing, so they tell nothing.
    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems", "mayAddItems") });
    await share(t, alice, inbox, null);

    const list = await notifications(t, bob);
    assert.deepEqual(list.map(gist), [
      { changedBy, ...about, oldRights: NONE, newRights: rights("mayReadItems") },
      {
        changedBy,
        ...about,
        oldRights: rights("mayReadItems"),
        newRights: rights("mayReadItems", "mayAddItems"),
      },
      { changedBy, ...about, oldRights: rights("mayReadItems", "mayAddItems"), newRights: NONE },
    ]);
    for (const n of list) {
      assert.match(n.created as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.ok(Math.abs(Date.parse(n.created as string) - Date.now()) < 60_000);
    }
    assert.deepEqual(await notifications(t, alice), [], "the author of a change is not notified");

    const changes = await mailCall(t, "ShareNotification/changes", { sinceState: s0 }, bob);
    assert.deepEqual(changes.created, list.map((n) => n.id));
    assert.deepEqual(changes.updated, []);
    assert.deepEqual(changes.destroyed, []);
    assert.equal(changes.newState, await state(t, bob));
  }));

Deno.test("a new mailbox shared on creation, and a child inheriting its parent's grants, notify the grantee", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const parent = await createMailbox(t, alice, {
      name: "Projects",
      shareWith: { [bob.accountId]: rights("mayReadItems", "mayCreateChild") },
    });
    const child = await createMailbox(t, alice, { name: "Q3", parentId: parent.id });
    const list = await notifications(t, bob);
    assert.deepEqual(list.map((n) => [n.objectId, n.name, n.newRights]), [
      [parent.id, "Projects", rights("mayReadItems", "mayCreateChild")],
      [child.id, "Q3", rights("mayReadItems", "mayCreateChild")],
    ]);
  }));

Deno.test("a grantee who holds mayShare is named as the author when they change another's rights", () =>
  withApp(async (t) => {
    const [alice, bob, carol] = await createUsers(t, ["alice", "bob", "carol"]);
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems", "mayShare") });
    const error = await setOutcome(t, bob, {
      update: [inbox, {
        shareWith: {
          [bob.accountId]: rights("mayReadItems", "mayShare"),
          [carol.accountId]: rights("mayReadItems"),
        },
      }],
    }, alice.accountId);
    assert.equal(error, undefined, JSON.stringify(error));
    const [forCarol] = await notifications(t, carol);
    assert.deepEqual(forCarol.changedBy, {
      name: "bob",
      email: "bob@example.org",
      principalId: bob.accountId,
    });
    assert.equal(forCarol.objectAccountId, alice.accountId);
    assert.equal((await notifications(t, bob)).length, 1, "bob only has the one about his own grant");
  }));

Deno.test("a grant to a group notifies each member with their own rights, and not the group", () =>
  withApp(async (t) => {
    const [alice, member, direct, outsider] = await createUsers(t, ["alice", "member", "direct", "outsider"]);
    const { created } = await adminSetAccounts(t, {
      create: { team: { "@type": "Group", name: "team", domainId: "b" } },
    });
    const team = (created as Record<string, Obj>).team.id as string;
    await adminSetAccounts(t, {
      update: {
        [member.accountId]: { memberGroupIds: [team] },
        [direct.accountId]: { memberGroupIds: [team] },
      },
    });
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    // `direct` already holds what the group will get, and more: their rights do not change.
    await share(t, alice, inbox, { [direct.accountId]: rights("mayReadItems", "mayAddItems") });
    await share(t, alice, inbox, {
      [direct.accountId]: rights("mayReadItems", "mayAddItems"),
      [team]: rights("mayReadItems"),
    });
    assert.deepEqual((await notifications(t, member)).map((n) => [n.oldRights, n.newRights]), [
      [NONE, rights("mayReadItems")],
    ]);
    assert.equal((await notifications(t, direct)).length, 1, "only the direct grant changed direct's rights");
    assert.deepEqual(await notifications(t, outsider), []);
  }));

Deno.test("ShareNotification/query filters by time, objectType and objectAccountId and sorts by created", () =>
  withApp(async (t) => {
    const [alice, bob, carol] = await createUsers(t, ["alice", "bob", "carol"]);
    const aliceInbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    await share(t, alice, aliceInbox, { [carol.accountId]: rights("mayReadItems") });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const middle = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await share(t, bob, (await mailboxesByName(t, bob)).Inbox.id as string, {
      [carol.accountId]: rights("mayReadItems"),
    });
    const [fromAlice, fromBob] = await notifications(t, carol);
    const ids = async (filter: Obj | null, sort?: Obj[]) =>
      (await mailCall(t, "ShareNotification/query", { filter, ...(sort ? { sort } : {}) }, carol))
        .ids;
    assert.deepEqual(await ids(null, [{ property: "created", isAscending: false }]), [
      fromBob.id,
      fromAlice.id,
    ]);
    assert.deepEqual(await ids({ after: middle }), [fromBob.id]);
    assert.deepEqual(await ids({ before: middle }), [fromAlice.id]);
    assert.deepEqual(await ids({ objectAccountId: alice.accountId }), [fromAlice.id]);
    assert.deepEqual(await ids({ objectType: "Mailbox" }, [{ property: "created" }]), [
      fromAlice.id,
      fromBob.id,
    ]);
    assert.deepEqual(await ids({ objectType: "Calendar" }), []);

    const [[name, error]] = (await mailRequest(t, [[
      "ShareNotification/query",
      { accountId: carol.accountId, filter: { after: "yesterday" } },
      "0",
    ]], carol.auth)).methodResponses;
    assert.equal(name, "error");
    assert.equal(error.type, "invalidArguments");
    const [[, sortError]] = (await mailRequest(t, [[
      "ShareNotification/query",
      { accountId: carol.accountId, sort: [{ property: "name" }] },
      "0",
    ]], carol.auth)).methodResponses;
    assert.equal(sortError.type, "unsupportedSort");
  }));

Deno.test("a notification is dismissed by destroying it; creating or updating one is forbidden", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await share(t, alice, (await mailboxesByName(t, alice)).Inbox.id as string, {
      [bob.accountId]: rights("mayReadItems"),
    });
    const [notification] = await notifications(t, bob);
    const id = notification.id as string;
    const before = await state(t, bob);
    const refused = await mailCall(t, "ShareNotification/set", {
      create: { n: { ...gist(notification) } },
      update: { [id]: { name: "renamed" } },
    }, bob);
    assert.equal((refused.notCreated as Record<string, Obj>).n.type, "forbidden");
    assert.equal((refused.notUpdated as Record<string, Obj>)[id].type, "forbidden");
    assert.equal(refused.newState, before);

    // Another user cannot reach it: their account has no such notification.
    const [[, elsewhere]] = (await mailRequest(t, [[
      "ShareNotification/set",
      { accountId: bob.accountId, destroy: [id] },
      "0",
    ]], alice.auth)).methodResponses;
    assert.equal(elsewhere.type, "accountNotFound");
    const mine = await mailCall(t, "ShareNotification/set", { destroy: [id] }, alice);
    assert.equal((mine.notDestroyed as Record<string, Obj>)[id].type, "notFound");

    const destroyed = await mailCall(t, "ShareNotification/set", { destroy: [id] }, bob);
    assert.deepEqual(destroyed.destroyed, [id]);
    assert.deepEqual(await notifications(t, bob), []);
    const changes = await mailCall(t, "ShareNotification/changes", { sinceState: before }, bob);
    assert.deepEqual(changes.destroyed, [id]);
    assert.deepEqual(changes.created, []);
    const again = await mailCall(t, "ShareNotification/set", { destroy: [id] }, bob);
    assert.equal((again.notDestroyed as Record<string, Obj>)[id].type, "notFound");
  }));

Deno.test("notifications outlive the mailbox they tell about and go with the account they belong to", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const projects = await createMailbox(t, alice, {
      name: "Projects",
      shareWith: { [bob.accountId]: rights("mayReadItems") },
    });
    const error = await setOutcome(t, alice, { destroy: projects.id as string });
    assert.equal(error, undefined, JSON.stringify(error));
    const [kept] = await notifications(t, bob);
    assert.equal(kept.objectId, projects.id);
    assert.equal(kept.name, "Projects");

    assert.equal(storedRows(t, bob.accountId), 1);
    await adminSetAccounts(t, { destroy: [bob.accountId] });
    assert.equal(storedRows(t, bob.accountId), 0, "deleting the account deleted its notifications");
  }));

Deno.test("ShareNotification methods are only in the caller's own account", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await share(t, bob, (await mailboxesByName(t, bob)).Inbox.id as string, {
      [alice.accountId]: rights("mayReadItems"),
    });
    // Bob's mail account is shared with alice, but his notifications are not.
    const [[name, error]] = (await mailRequest(t, [[
      "ShareNotification/get",
      { accountId: bob.accountId, ids: null },
      "0",
    ]], alice.auth)).methodResponses;
    assert.equal(name, "error");
    assert.equal(error.type, "accountNotFound");
  }));
