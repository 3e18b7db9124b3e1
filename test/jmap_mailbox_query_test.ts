/**
 * Mailbox/changes, /query and /queryChanges (RFC 8620 §5.2, §5.5, §5.6; RFC 8621 §2.2–2.4): states
 * kept per account, the Mailbox filters and sorts, sortAsTree and filterAsTree, and query changes a
 * client can apply.
 */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import {
  createMailbox,
  DEFAULT_MAILBOXES,
  mailboxesByName,
  mailboxState as stateOf,
  mailCall,
  mailError,
  mailRequest,
  type Obj,
  rights,
  setMailboxes,
  share,
  sortedIds as sorted,
  type Who,
  withAliceAndBob as withUsers,
} from "./mail_helpers.ts";
import { imported, message } from "./email_helpers.ts";

async function queryIds(t: TestApp, who: Who, args: Obj): Promise<string[]> {
  return (await mailCall(t, "Mailbox/query", args, who)).ids as string[];
}

Deno.test("Mailbox/changes reports creations, updates and destructions; another user's changes leave my state alone", () =>
  withUsers(async (t, alice, bob) => {
    const old = await createMailbox(t, alice, { name: "Old" });
    const { Inbox } = await mailboxesByName(t, alice);
    const s0 = await stateOf(t, alice);
    const bobState = await stateOf(t, bob);

    const fresh = await createMailbox(t, alice, { name: "New" });
    const temporary = await createMailbox(t, alice, { name: "Temporary" });
    await setMailboxes(t, alice, { update: { [Inbox.id as string]: { sortOrder: 99 } } });
    await setMailboxes(t, alice, { destroy: [old.id, temporary.id] });
    const s1 = await stateOf(t, alice);
    assert.notEqual(s1, s0);
    assert.equal(await stateOf(t, bob), bobState, "alice's changes moved bob's state");

    const changes = await mailCall(t, "Mailbox/changes", { sinceState: s0 }, alice);
    assert.deepEqual(changes.created, [fresh.id]);
    assert.deepEqual(changes.updated, [Inbox.id]);
    assert.deepEqual(changes.destroyed, [old.id], "created and destroyed since s0 is not reported");
    assert.equal(changes.oldState, s0);
    assert.equal(changes.newState, s1);
    assert.equal(changes.hasMoreChanges, false);

    // Bob's writes do not move alice's state or show in her changes.
    await createMailbox(t, bob, { name: "Bob's" });
    await setMailboxes(t, bob, {
      update: { [(await mailboxesByName(t, bob)).Inbox.id as string]: { name: "In" } },
    });
    assert.notEqual(await stateOf(t, bob), bobState);
    assert.equal(await stateOf(t, alice), s1);
    const none = await mailCall(t, "Mailbox/changes", { sinceState: s1 }, alice);
    assert.deepEqual([none.created, none.updated, none.destroyed, none.newState], [[], [], [], s1]);

    // Paging: one change at a time walks to the same end.
    const seen: string[] = [];
    let since = s0;
    for (let page = 0; page < 5; page++) {
      const step = await mailCall(t, "Mailbox/changes", { sinceState: since, maxChanges: 1 }, alice);
      seen.push(
        ...(step.created as string[]),
        ...(step.updated as string[]),
        ...(step.destroyed as string[]),
      );
      since = step.newState as string;
      if (!step.hasMoreChanges) break;
    }
    assert.equal(since, s1);
    // Page by page, the created-then-destroyed mailbox is seen both times, as it happened.
    assert.deepEqual(sorted([...new Set(seen)]), sorted([fresh.id, Inbox.id, old.id, temporary.id]));

    const stale = await mailError(
      t,
      "Mailbox/set",
      { ifInState: s0, create: { x: { name: "Late" } } },
      alice,
    );
    assert.equal(stale.type, "stateMismatch");
    const bad = await mailError(t, "Mailbox/changes", { sinceState: "not a state" }, alice);
    assert.equal(bad.type, "cannotCalculateChanges");
  }));

/** Alice's tree for the query tests; returns the ids by name. */
async function queryFixture(t: TestApp, alice: Who): Promise<Record<string, string>> {
  const made = await setMailboxes(t, alice, {
    create: {
      work: { name: "Work", sortOrder: 10 },
      reports: { name: "Reports", parentId: "#work", sortOrder: 1 },
      clients: { name: "Clients", parentId: "#work", sortOrder: 2 },
      personal: { name: "Personal", sortOrder: 7, isSubscribed: false },
      travel: { name: "Travel", parentId: "#personal" },
    },
  });
  assert.equal(made.notCreated, null, JSON.stringify(made.notCreated));
  const inbox = (await mailboxesByName(t, alice)).Inbox.id;
  await createMailbox(t, alice, { name: "Receipts", parentId: inbox });
  const all = await mailboxesByName(t, alice);
  return Object.fromEntries(Object.entries(all).map(([name, m]) => [name, m.id as string]));
}

Deno.test("Mailbox/query filters by parentId, name, role, hasAnyRole and isSubscribed, and sorts by sortOrder and name", () =>
  withUsers(async (t, alice) => {
    const id = await queryFixture(t, alice);
    const names = (ids: string[]) => ids.map((i) => Object.keys(id).find((n) => id[n] === i));
    const query = async (args: Obj) => names(await queryIds(t, alice, args));
    const bySortOrder = [{ property: "sortOrder" }, { property: "name" }];

    assert.deepEqual(
      await query({ filter: { parentId: null }, sort: bySortOrder }),
      ["Inbox", "Drafts", "Sent", "Archive", "Junk", "Trash", "Personal", "Work"],
    );
    assert.deepEqual(await query({ filter: { parentId: id.Work }, sort: bySortOrder }), [
      "Reports",
      "Clients",
    ]);
    assert.deepEqual(await query({ filter: { parentId: id.Work }, sort: [{ property: "name" }] }), [
      "Clients",
      "Reports",
    ]);
    assert.deepEqual(
      await query({ filter: { parentId: id.Work }, sort: [{ property: "name", isAscending: false }] }),
      ["Reports", "Clients"],
    );
    assert.deepEqual(await query({ filter: { name: "Re" }, sort: [{ property: "name" }] }), [
      "Receipts",
      "Reports",
    ]);
    assert.deepEqual(await query({ filter: { role: "inbox" } }), ["Inbox"]);
    assert.deepEqual(
      sorted(await query({ filter: { hasAnyRole: true } })),
      sorted(DEFAULT_MAILBOXES.map(([n]) => n)),
    );
    assert.deepEqual(
      sorted(await query({ filter: { hasAnyRole: false } })),
      sorted(["Work", "Reports", "Clients", "Personal", "Travel", "Receipts"]),
    );
    assert.deepEqual(await query({ filter: { isSubscribed: false } }), ["Personal"]);
    assert.deepEqual(
      await query({ filter: { operator: "AND", conditions: [{ parentId: id.Work }, { name: "Cl" }] } }),
      ["Clients"],
    );
    assert.deepEqual(
      sorted(
        await query({ filter: { operator: "NOT", conditions: [{ hasAnyRole: true }, { parentId: null }] } }),
      ),
      sorted(["Reports", "Clients", "Travel", "Receipts"]),
    );

    const page = await mailCall(t, "Mailbox/query", {
      filter: { parentId: null },
      sort: bySortOrder,
      position: 2,
      limit: 3,
      calculateTotal: true,
    }, alice);
    assert.deepEqual(names(page.ids as string[]), ["Sent", "Archive", "Junk"]);
    assert.equal(page.position, 2);
    assert.equal(page.total, 8);
    assert.equal(typeof page.queryState, "string");

    assert.equal(
      (await mailError(t, "Mailbox/query", { filter: { colour: "red" } }, alice)).type,
      "unsupportedFilter",
    );
    assert.equal(
      (await mailError(t, "Mailbox/query", { sort: [{ property: "totalEmails" }] }, alice)).type,
      "unsupportedSort",
    );
  }));

Deno.test("Mailbox/query sortAsTree puts parents before children and filterAsTree drops mailboxes whose parents do not match", () =>
  withUsers(async (t, alice) => {
    const id = await queryFixture(t, alice);
    const names = (ids: string[]) => ids.map((i) => Object.keys(id).find((n) => id[n] === i));
    const sort = [{ property: "sortOrder" }, { property: "name" }];
    // Receipts has sortOrder 0 but comes right after its parent Inbox.
    assert.deepEqual(names(await queryIds(t, alice, { sort, sortAsTree: true })), [
      "Inbox",
      "Receipts",
      "Drafts",
      "Sent",
      "Archive",
      "Junk",
      "Trash",
      "Personal",
      "Travel",
      "Work",
      "Reports",
      "Clients",
    ]);
    // Without the tree the children mix with the top level by sortOrder.
    assert.deepEqual(names(await queryIds(t, alice, { sort })).slice(0, 3), ["Receipts", "Travel", "Inbox"]);

    assert.deepEqual(
      names(
        await queryIds(t, alice, {
          filter: { hasAnyRole: false },
          sort,
          filterAsTree: true,
          sortAsTree: true,
        }),
      ),
      ["Personal", "Travel", "Work", "Reports", "Clients"],
      "Receipts' parent Inbox has a role, so it does not match as a tree",
    );
    assert.deepEqual(
      names(await queryIds(t, alice, { filter: { name: "Tr" }, sort: [{ property: "name" }] })),
      [
        "Trash",
        "Travel",
      ],
    );
    assert.deepEqual(
      names(
        await queryIds(t, alice, {
          filter: { name: "Tr" },
          sort: [{ property: "name" }],
          filterAsTree: true,
        }),
      ),
      ["Trash"],
    );
    const bad = await mailError(t, "Mailbox/query", { sortAsTree: "yes" }, alice);
    assert.equal(bad.type, "invalidArguments");
  }));

/** Applies a /queryChanges answer to the old ids as RFC 8620 §5.6 tells clients to. */
function applyQueryChanges(old: string[], changes: Obj): string[] {
  const removed = new Set(changes.removed as string[]);
  const out = old.filter((i) => !removed.has(i));
  const added = [...(changes.added as { id: string; index: number }[])].sort((a, b) => a.index - b.index);
  for (const { id, index } of added) out.splice(index, 0, id);
  return out;
}

Deno.test("Mailbox/queryChanges gives removed and added that turn the old results into the new ones", () =>
  withUsers(async (t, alice, bob) => {
    const id = await queryFixture(t, alice);
    const args = { filter: { parentId: null }, sort: [{ property: "name" }] };
    const before = await mailCall(t, "Mailbox/query", args, alice);
    const q0 = before.queryState as string;

    await createMailbox(t, alice, { name: "Beta" });
    await setMailboxes(t, alice, {
      update: { [id.Work]: { name: "Alpha" }, [id.Reports]: { parentId: null } },
    });
    await setMailboxes(t, alice, { destroy: [id.Travel, id.Personal] });
    await createMailbox(t, bob, { name: "Bob's" });

    const now = await mailCall(t, "Mailbox/query", args, alice);
    const changes = await mailCall(t, "Mailbox/queryChanges", { ...args, sinceQueryState: q0 }, alice);
    assert.equal(changes.oldQueryState, q0);
    assert.equal(changes.newQueryState, now.queryState);
    assert.equal(changes.total, (now.ids as string[]).length);
    assert.deepEqual(applyQueryChanges(before.ids as string[], changes), now.ids);
    for (const gone of [id.Personal]) assert.ok((changes.removed as string[]).includes(gone));

    const unchanged = await mailCall(
      t,
      "Mailbox/queryChanges",
      { ...args, sinceQueryState: now.queryState },
      alice,
    );
    assert.deepEqual([unchanged.removed, unchanged.added], [[], []]);
    const bad = await mailError(t, "Mailbox/queryChanges", { ...args, sinceQueryState: "nope" }, alice);
    assert.equal(bad.type, "cannotCalculateChanges");
  }));

const COUNTS = ["totalEmails", "unreadEmails", "totalThreads", "unreadThreads"];

Deno.test("Mailbox/changes names the count properties in updatedProperties when only counts changed, for the RFC's #properties back-reference (RFC 8621 §2.2)", () =>
  withUsers(async (t, alice, bob) => {
    const { Inbox, Archive } = await mailboxesByName(t, alice);
    await share(t, alice, Inbox.id as string, { [bob.accountId]: rights("mayReadItems") });
    const s0 = await stateOf(t, alice);
    const bobS0 = (await mailCall(t, "Mailbox/get", { accountId: alice.accountId, ids: [] }, bob)).state;
    const email = await imported(t, alice, message("Subject: counts\n\nhello\n"));
    await mailCall(t, "Email/set", { update: { [email.id as string]: { "keywords/$seen": true } } }, alice);

    // RFC 8621 §2.2: "If only the "totalEmails", "unreadEmails", "totalThreads", and/or
    // "unreadThreads" Mailbox properties have changed since the old state, this will be the list of
    // properties that may have changed." The RFC's own pattern fetches just those, by back-reference.
    const { methodResponses } = await mailRequest(t, [
      ["Mailbox/changes", { accountId: alice.accountId, sinceState: s0 }, "0"],
      ["Mailbox/get", {
        accountId: alice.accountId,
        "#ids": { resultOf: "0", name: "Mailbox/changes", path: "/updated" },
        "#properties": { resultOf: "0", name: "Mailbox/changes", path: "/updatedProperties" },
      }, "1"],
    ], alice.auth);
    const [[, changes], [getName, got]] = methodResponses;
    assert.deepEqual(changes.updated, [Inbox.id]);
    assert.deepEqual(changes.updatedProperties, COUNTS);
    assert.equal(getName, "Mailbox/get", JSON.stringify(got));
    assert.deepEqual(got.list, [{
      id: Inbox.id,
      totalEmails: 1,
      unreadEmails: 0,
      totalThreads: 1,
      unreadThreads: 0,
    }]);

    // A grantee who saw the mailbox throughout gets the same answer.
    const bobs = await mailCall(t, "Mailbox/changes", { accountId: alice.accountId, sinceState: bobS0 }, bob);
    assert.deepEqual(bobs.updated, [Inbox.id]);
    assert.deepEqual(bobs.updatedProperties, COUNTS);

    // Moving an email (counts of both mailboxes) and destroying it are counts too.
    const s1 = await stateOf(t, alice);
    await mailCall(t, "Email/set", {
      update: { [email.id as string]: { mailboxIds: { [Archive.id as string]: true } } },
    }, alice);
    const moved = await mailCall(t, "Mailbox/changes", { sinceState: s1 }, alice);
    assert.deepEqual(sorted(moved.updated), sorted([Inbox.id, Archive.id]));
    assert.deepEqual(moved.updatedProperties, COUNTS);

    // "If the server is unable to tell if only counts have changed, it MUST just be null": any other
    // change in the range (a rename, a created mailbox) makes it null.
    await setMailboxes(t, alice, { update: { [Archive.id as string]: { name: "Old mail" } } });
    const renamed = await mailCall(t, "Mailbox/changes", { sinceState: s1 }, alice);
    assert.deepEqual(sorted(renamed.updated), sorted([Inbox.id, Archive.id]));
    assert.equal(renamed.updatedProperties, null);
    const s2 = await stateOf(t, alice);
    await createMailbox(t, alice, { name: "Fresh" });
    const created = await mailCall(t, "Mailbox/changes", { sinceState: s2 }, alice);
    assert.equal(created.updatedProperties, null);
    // Nothing changed: nothing to fetch.
    const none = await mailCall(t, "Mailbox/changes", { sinceState: await stateOf(t, alice) }, alice);
    assert.equal(none.updatedProperties, null);
    assert.ok("updatedProperties" in none);

    // Sharing a mailbox with Bob is more than counts for him: it comes into his sight.
    const bobS1 = (await mailCall(t, "Mailbox/get", { accountId: alice.accountId, ids: [] }, bob)).state;
    await share(t, alice, Archive.id as string, { [bob.accountId]: rights("mayReadItems") });
    const shared = await mailCall(
      t,
      "Mailbox/changes",
      { accountId: alice.accountId, sinceState: bobS1 },
      bob,
    );
    assert.deepEqual(shared.created, [Archive.id]);
    assert.equal(shared.updatedProperties, null);
  }));
