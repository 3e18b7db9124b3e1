/**
 * x:MailboxGrant: administrators see every mailbox grant with names and rights, and revoke one; the
 * revocation is the owner's unsharing in every way a client can see (the grantee loses the mailbox
 * and is notified, the owner's Mailbox/changes shows it, /changes of the type logs it), and users
 * cannot read or make grants through it.
 */
import assert from "node:assert/strict";
import { cli } from "./helpers.ts";
import { call, CORE, jmap, MANAGEMENT } from "./jmap_helpers.ts";
import {
  createMailbox,
  createUsers,
  mailboxesByName,
  mailboxState,
  mailCall,
  type Obj,
  rights,
  share,
  withAliceAndBob,
} from "./mail_helpers.ts";

Deno.test("an administrator lists mailbox grants with names and rights, and revoking one unshares it", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const [team] = await createUsers(t, ["team"]);
    const projects = await createMailbox(t, alice, { name: "Projects" });
    const sub = await createMailbox(t, alice, { name: "2026", parentId: projects.id });
    await share(t, alice, sub.id as string, {
      [bob.accountId]: rights("mayReadItems", "maySetSeen"),
      [team.accountId]: rights("mayReadItems"),
    });
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems") });
    const since = (await call(t, "x:MailboxGrant/get", { ids: [] })).state as string;
    const ownerState = await mailboxState(t, alice);

    const all = (await call(t, "x:MailboxGrant/get", { ids: null })).list as Obj[];
    assert.equal(all.length, 3);
    const bobsOnSub = all.find((g) => g.granteeId === bob.accountId && g.mailboxId === sub.id)!;
    assert.deepEqual({ ...bobsOnSub, id: undefined }, {
      id: undefined,
      ownerId: alice.accountId,
      ownerName: "alice",
      mailboxId: sub.id,
      mailboxName: "Projects/2026",
      granteeId: bob.accountId,
      granteeName: "bob",
      granteeType: "User",
      rights: { "0": "mayReadItems", "1": "maySetSeen" },
    });
    const held = await call(t, "x:MailboxGrant/query", { filter: { granteeId: bob.accountId } });
    assert.equal((held.ids as string[]).length, 2);

    const destroyed = await call(t, "x:MailboxGrant/set", { destroy: [bobsOnSub.id] });
    assert.deepEqual(destroyed.destroyed, [bobsOnSub.id], JSON.stringify(destroyed));

    // Bob no longer sees the mailbox; the team keeps its grant; Bob is told; the owner's state moved.
    const seen = await mailboxesByName(t, bob, alice.accountId);
    assert.deepEqual(Object.keys(seen), ["Inbox"]);
    const after = (await call(t, "x:MailboxGrant/get", { ids: null })).list as Obj[];
    assert.deepEqual(after.map((g) => g.granteeName).sort(), ["bob", "team"]);
    const notices = (await mailCall(t, "ShareNotification/get", { ids: null }, bob)).list as Obj[];
    assert.ok(
      notices.some((n) => n.objectId === sub.id && Object.values(n.newRights as Obj).every((v) => !v)),
      JSON.stringify(notices),
    );
    const owner = await mailCall(t, "Mailbox/changes", { sinceState: ownerState }, alice);
    assert.deepEqual(owner.updated, [sub.id]);
    const changes = await call(t, "x:MailboxGrant/changes", { sinceState: since });
    assert.deepEqual(changes.destroyed, [bobsOnSub.id]);

    // Gone: a second destroy and a get say notFound.
    const again = await call(t, "x:MailboxGrant/set", { destroy: [bobsOnSub.id] });
    assert.equal((again.notDestroyed as Record<string, Obj>)[bobsOnSub.id as string].type, "notFound");
  });
});

Deno.test("mailbox grants change with the mailboxes: a grant made, changed and removed by cascade is logged", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const since = (await call(t, "x:MailboxGrant/get", { ids: [] })).state as string;
    const box = await createMailbox(t, alice, { name: "Shared" });
    await share(t, alice, box.id as string, { [bob.accountId]: rights("mayReadItems") });
    const [grant] = (await call(t, "x:MailboxGrant/get", { ids: null })).list as Obj[];
    assert.deepEqual((await call(t, "x:MailboxGrant/changes", { sinceState: since })).created, [grant.id]);
    const made = (await call(t, "x:MailboxGrant/get", { ids: [] })).state as string;
    await share(t, alice, box.id as string, { [bob.accountId]: rights("mayReadItems", "mayAddItems") });
    assert.deepEqual((await call(t, "x:MailboxGrant/changes", { sinceState: made })).updated, [grant.id]);
    const changed = (await call(t, "x:MailboxGrant/get", { ids: [] })).state as string;
    await mailCall(t, "Mailbox/set", { destroy: [box.id] }, alice);
    assert.deepEqual((await call(t, "x:MailboxGrant/changes", { sinceState: changed })).destroyed, [
      grant.id,
    ]);
    assert.deepEqual((await call(t, "x:MailboxGrant/get", { ids: null })).list, []);
  });
});

Deno.test("users cannot read mailbox grants through management; nobody creates or changes one there", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const inbox = (await mailboxesByName(t, alice)).Inbox.id as string;
    await share(t, alice, inbox, { [bob.accountId]: rights("mayReadItems") });
    const { methodResponses } = await jmap(
      t,
      [["x:MailboxGrant/get", { accountId: alice.accountId, ids: null }, "0"]],
      { auth: alice.auth, using: [CORE, MANAGEMENT] },
    );
    assert.equal(methodResponses[0][0], "error");
    assert.equal(methodResponses[0][1].type, "forbidden");
    assert.match(String(methodResponses[0][1].description), /Mailbox\/set shareWith/);
    // Nor their changes: the ids of grants are an administrator's view too.
    const changes = await jmap(
      t,
      [["x:MailboxGrant/changes", { accountId: alice.accountId, sinceState: "0" }, "0"]],
      { auth: alice.auth, using: [CORE, MANAGEMENT] },
    );
    assert.deepEqual([changes.methodResponses[0][0], changes.methodResponses[0][1].type], [
      "error",
      "forbidden",
    ]);

    // Not even an administrator: grants are made by sharing the mailbox.
    const create = await call(t, "x:MailboxGrant/set", {
      create: { g: { ownerId: alice.accountId, granteeId: bob.accountId } },
    });
    const refused = (create.notCreated as Record<string, Obj>).g;
    assert.equal(refused.type, "forbidden", JSON.stringify(refused));
    const [grant] = (await call(t, "x:MailboxGrant/get", { ids: null })).list as Obj[];
    const update = await call(t, "x:MailboxGrant/set", { update: { [grant.id as string]: { rights: {} } } });
    assert.equal((update.notUpdated as Record<string, Obj>)[grant.id as string].type, "forbidden");
  });
});

Deno.test("the CLI lists and deletes mailbox grants in local mode", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-mbgrant-" });
  try {
    assert.equal((await cli(["--data", dataDir, "init"])).code, 0);
    const listed = await cli(["--data", dataDir, "query", "mailbox-grant", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), []);
    const missing = await cli(["--data", dataDir, "delete", "mailbox-grant", "zz"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /MailboxGrant|not found/i);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
