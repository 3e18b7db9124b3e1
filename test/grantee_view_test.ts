/**
 * What a grantee learns of the owner's account (issue 18, item 16): Mailbox/changes names only the
 * mailboxes it may see — a newly shared one as created, an unshared or destroyed one it saw as
 * destroyed, and the owner's private mailboxes never, not even as destroyed — and pushes reach it
 * only when something it may see changed, with only the types it may read.
 */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import { imported, message } from "./email_helpers.ts";
import {
  adminSetAccounts,
  createMailbox,
  mailboxesByName,
  mailCall,
  mailError,
  type Obj,
  rights,
  setOutcome,
  share,
  sortedIds,
  type Who,
  withAliceAndBob,
} from "./mail_helpers.ts";
import { createUsers } from "./mail_helpers.ts";

const changesOf = async (t: TestApp, bob: Who, alice: Who, sinceState: string) => {
  const result = await mailCall(t, "Mailbox/changes", { accountId: alice.accountId, sinceState }, bob);
  return {
    created: sortedIds(result.created),
    updated: sortedIds(result.updated),
    destroyed: sortedIds(result.destroyed),
    newState: result.newState as string,
  };
};

const stateIn = async (t: TestApp, who: Who, accountId: string) =>
  (await mailCall(t, "Mailbox/get", { accountId, ids: [] }, who)).state as string;

Deno.test("a read-only grantee's Mailbox/changes names only the mailboxes shared with it, never the owner's private ones", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const shared = (await createMailbox(t, alice, { name: "Shared" })).id as string;
    const secret = (await createMailbox(t, alice, { name: "Secret" })).id as string;
    await share(t, alice, shared, { [bob.accountId]: rights("mayReadItems") });

    // From the very start: only what bob may see, although the owner's log names every mailbox.
    const all = await changesOf(t, bob, alice, "0");
    assert.deepEqual(all.created, [shared], JSON.stringify(all));
    assert.deepEqual([...all.updated, ...all.destroyed], []);

    // The owner works in the private mailboxes and renames the shared one.
    const s1 = await stateIn(t, bob, alice.accountId);
    await setOutcome(t, alice, { update: [secret, { name: "Still secret" }] });
    await imported(t, alice, message("Subject: private\n\nfor alice only\n"), { mailboxIds: [secret] });
    await imported(t, alice, message("Subject: inbox\n\nfor alice only\n"));
    await setOutcome(t, alice, { update: [shared, { name: "Shared, renamed" }] });
    const renamed = await changesOf(t, bob, alice, s1);
    assert.deepEqual(renamed, { created: [], updated: [shared], destroyed: [], newState: renamed.newState });
    // The owner still sees everything.
    const own = await mailCall(t, "Mailbox/changes", { sinceState: s1 }, alice);
    assert.ok((own.updated as string[]).includes(secret));

    // Private mailboxes destroyed: still nothing for bob.
    const s2 = renamed.newState;
    await setOutcome(t, alice, { destroy: secret });
    const quiet = await changesOf(t, bob, alice, s2);
    assert.deepEqual([...quiet.created, ...quiet.updated, ...quiet.destroyed], [], JSON.stringify(quiet));
  });
});

Deno.test("a mailbox newly shared with a grantee is created for it, one unshared or destroyed is destroyed for it", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const first = (await createMailbox(t, alice, { name: "First" })).id as string;
    const second = (await createMailbox(t, alice, { name: "Second" })).id as string;
    const third = (await createMailbox(t, alice, { name: "Third" })).id as string;
    await share(t, alice, first, { [bob.accountId]: rights("mayReadItems") });
    await share(t, alice, third, { [bob.accountId]: rights("mayReadItems") });
    const s0 = await stateIn(t, bob, alice.accountId);

    // An existing mailbox shared now: bob never saw it, so it is new to him.
    await share(t, alice, second, { [bob.accountId]: rights("mayReadItems") });
    // Unshared: it leaves bob's view.
    await share(t, alice, first, null);
    // Destroyed while shared.
    await setOutcome(t, alice, { destroy: third });
    const changes = await changesOf(t, bob, alice, s0);
    assert.deepEqual(changes.created, [second], JSON.stringify(changes));
    assert.deepEqual(changes.updated, []);
    assert.deepEqual(changes.destroyed, [first, third].sort());

    // Rights changed on a mailbox bob keeps seeing: updated (its myRights changed).
    const s1 = changes.newState;
    await share(t, alice, second, { [bob.accountId]: rights("mayReadItems", "maySetSeen") });
    // Shared again: new to bob again.
    await share(t, alice, first, { [bob.accountId]: rights("mayReadItems") });
    const again = await changesOf(t, bob, alice, s1);
    assert.deepEqual(again, { created: [first], updated: [second], destroyed: [], newState: again.newState });
    assert.deepEqual(
      Object.keys(await mailboxesByName(t, bob, alice.accountId)).sort(),
      ["First", "Second"],
      "what /changes told bob is what Mailbox/get shows him",
    );
  });
});

Deno.test("RFC 8621 §2.2: a member who joins or leaves a group (or whose group is deleted) gets the group's shared mailboxes as created or destroyed", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const { created } = await adminSetAccounts(t, {
      create: { team: { "@type": "Group", name: "team", domainId: "b" } },
    });
    const team = (created as Record<string, Obj>).team.id as string;
    const direct = (await createMailbox(t, alice, { name: "Direct" })).id as string;
    const teamBox = (await createMailbox(t, alice, { name: "Team" })).id as string;
    // Direct is shared with bob and with the group: he sees it whatever his groups.
    await share(t, alice, direct, {
      [bob.accountId]: rights("mayReadItems"),
      [team]: rights("mayReadItems"),
    });
    await share(t, alice, teamBox, { [team]: rights("mayReadItems") });
    const s0 = await stateIn(t, bob, alice.accountId);

    const setGroups = (groups: string[]) =>
      adminSetAccounts(t, { update: { [bob.accountId]: { memberGroupIds: groups } } });
    await setGroups([team]);
    const joined = await changesOf(t, bob, alice, s0);
    assert.deepEqual(joined, { created: [teamBox], updated: [], destroyed: [], newState: joined.newState });
    assert.deepEqual(Object.keys(await mailboxesByName(t, bob, alice.accountId)).sort(), ["Direct", "Team"]);

    await setGroups([]);
    const left = await changesOf(t, bob, alice, joined.newState);
    assert.deepEqual(left, { created: [], updated: [], destroyed: [teamBox], newState: left.newState });

    await setGroups([team]);
    const rejoined = await changesOf(t, bob, alice, left.newState);
    assert.deepEqual(rejoined.created, [teamBox]);
    await adminSetAccounts(t, { destroy: [team] });
    const deleted = await changesOf(t, bob, alice, rejoined.newState);
    assert.deepEqual(deleted.destroyed, [teamBox], JSON.stringify(deleted));
    assert.deepEqual(deleted.created, []);
    assert.deepEqual(Object.keys(await mailboxesByName(t, bob, alice.accountId)), ["Direct"]);
  });
});

Deno.test("Mailbox/changes of another account: no grant is accountNotFound, a bad state is cannotCalculateChanges", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const [carol] = await createUsers(t, ["carol"]);
    const shared = (await createMailbox(t, alice, { name: "Shared" })).id as string;
    await share(t, alice, shared, { [bob.accountId]: rights("mayReadItems") });
    const outsider = await mailError(
      t,
      "Mailbox/changes",
      { accountId: alice.accountId, sinceState: "0" },
      carol,
    );
    assert.equal(outsider.type, "accountNotFound");
    for (const sinceState of ["not a state", "-1", "999999999"]) {
      const bad = await mailError(t, "Mailbox/changes", { accountId: alice.accountId, sinceState }, bob);
      assert.equal(bad.type, "cannotCalculateChanges", `${sinceState}: ${JSON.stringify(bad)}`);
    }
    const noState = await mailError(t, "Mailbox/changes", { accountId: alice.accountId }, bob);
    assert.equal((noState as Obj).type, "invalidArguments");
  });
});

Deno.test("a grantee's Mailbox/queryChanges removes only mailboxes it sees or saw, never the owner's private ones", async () => {
  await withAliceAndBob(async (t, alice, bob) => {
    const shared = (await createMailbox(t, alice, { name: "Shared" })).id as string;
    const other = (await createMailbox(t, alice, { name: "Other" })).id as string;
    const secret = (await createMailbox(t, alice, { name: "Secret" })).id as string;
    await share(t, alice, shared, { [bob.accountId]: rights("mayReadItems") });
    await share(t, alice, other, { [bob.accountId]: rights("mayReadItems") });
    const query = await mailCall(t, "Mailbox/query", { accountId: alice.accountId }, bob);
    assert.deepEqual(sortedIds(query.ids), [shared, other].sort());
    await setOutcome(t, alice, { update: [secret, { name: "Still secret" }] });
    await setOutcome(t, alice, { update: [shared, { name: "Shared, renamed" }] });
    await share(t, alice, other, null);
    const changes = await mailCall(t, "Mailbox/queryChanges", {
      accountId: alice.accountId,
      sinceQueryState: query.queryState,
    }, bob);
    assert.deepEqual(sortedIds(changes.removed), [shared, other].sort(), JSON.stringify(changes));
    assert.deepEqual(changes.added, [{ id: shared, index: 0 }]);
    assert.equal(changes.total, 1);
  });
});
