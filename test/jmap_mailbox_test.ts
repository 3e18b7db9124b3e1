/**
 * The Mailbox type (RFC 8621 §2) as a client sees it: the default mailboxes, /get, /set with the data
 * model's rules (roles, names, parents, depth, children), and accounts kept apart. /changes and /query
 * are in jmap_mailbox_query_test.ts.
 */
import assert from "node:assert/strict";
import { CORE, MAIL } from "./jmap_helpers.ts";
import {
  createMailbox,
  DEFAULT_MAILBOXES,
  getSession,
  mailboxesByName,
  mailboxState,
  mailCall,
  mailError,
  mailRequest,
  type Obj,
  RIGHTS,
  rights,
  setMailboxes,
  setOutcome,
  sortedIds as sorted,
  withAliceAndBob as withUsers,
} from "./mail_helpers.ts";

Deno.test("a new user has the six default mailboxes with unique roles, subscribed, every right and no emails", () =>
  withUsers(async (t, alice) => {
    const got = await mailCall(t, "Mailbox/get", { ids: null }, alice);
    assert.equal(got.accountId, alice.accountId);
    assert.equal(typeof got.state, "string");
    assert.deepEqual(got.notFound, []);
    const list = got.list as Obj[];
    assert.deepEqual(
      list.map((m) => [m.name, m.role]).sort(),
      DEFAULT_MAILBOXES.map(([n, r]) => [n, r]).sort(),
    );
    assert.equal(new Set(list.map((m) => m.id)).size, 6);
    for (const m of list) {
      assert.equal(m.parentId, null, `${m.name}`);
      assert.equal(m.isSubscribed, true, `${m.name}`);
      assert.deepEqual(m.myRights, rights(...RIGHTS), `${m.name}`);
      for (const count of ["totalEmails", "unreadEmails", "totalThreads", "unreadThreads"]) {
        assert.equal(m[count], 0, `${m.name}.${count}`);
      }
      assert.equal(typeof m.sortOrder, "number");
    }
    const session = await getSession(t, alice.auth);
    const account = session.accounts[alice.accountId];
    const mail = (account.accountCapabilities as Record<string, Obj>)[MAIL];
    assert.equal(mail.mayCreateTopLevelMailbox, true);
    assert.equal(mail.maxMailboxDepth, 10);
    assert.equal(mail.maxSizeMailboxName, 255);
    assert.equal((session.primaryAccounts as Obj)[MAIL], alice.accountId);
  }));

Deno.test("Mailbox/get returns the asked ids, lists unknown ones in notFound, and keeps only the asked properties", () =>
  withUsers(async (t, alice) => {
    const { Inbox, Trash } = await mailboxesByName(t, alice);
    const some = await mailCall(t, "Mailbox/get", { ids: [Trash.id, "zzzz", Inbox.id] }, alice);
    assert.deepEqual(sorted((some.list as Obj[]).map((m) => m.id)), sorted([Trash.id, Inbox.id]));
    assert.deepEqual(some.notFound, ["zzzz"]);

    const named = await mailCall(t, "Mailbox/get", { ids: [Inbox.id], properties: ["name", "role"] }, alice);
    assert.deepEqual(named.list, [{ id: Inbox.id, name: "Inbox", role: "inbox" }]);
    const none = await mailCall(t, "Mailbox/get", { ids: [], properties: [] }, alice);
    assert.deepEqual(none.list, []);

    const unknown = await mailError(t, "Mailbox/get", { ids: null, properties: ["name", "color"] }, alice);
    assert.equal(unknown.type, "invalidArguments");
    // Without the mail capability in "using" the method does not exist for the request.
    const { methodResponses } = await mailRequest(t, [], alice.auth);
    assert.deepEqual(methodResponses, []);
    const response = await t.fetch("/jmap", {
      method: "POST",
      headers: { authorization: alice.auth, "content-type": "application/json" },
      body: JSON.stringify({
        using: [CORE],
        methodCalls: [["Mailbox/get", { accountId: alice.accountId }, "0"]],
      }),
    });
    const body = await response.json();
    assert.equal(body.methodResponses[0][0], "error");
    assert.equal(body.methodResponses[0][1].type, "unknownMethod");
  }));

Deno.test("Mailbox/set creates a child through a #creationId parent, renames, moves and destroys", () =>
  withUsers(async (t, alice) => {
    const created = await setMailboxes(t, alice, {
      create: {
        p: { name: "Projects", sortOrder: 20 },
        c: { name: "Alpha", parentId: "#p" },
      },
    });
    assert.equal(created.notCreated, null, JSON.stringify(created.notCreated));
    const { p, c } = created.created as Record<string, Obj>;
    assert.equal(typeof p.id, "string");
    assert.equal(typeof c.id, "string");
    const got = await mailboxesByName(t, alice);
    assert.equal(got.Projects.id, p.id);
    assert.equal(got.Projects.sortOrder, 20);
    assert.equal(got.Alpha.parentId, p.id);
    assert.equal(got.Alpha.role, null);
    assert.deepEqual(got.Alpha.myRights, rights(...RIGHTS));

    assert.equal(await setOutcome(t, alice, { update: [c.id as string, { name: "Beta" }] }), undefined);
    assert.equal((await mailboxesByName(t, alice)).Beta.id, c.id);

    assert.equal(await setOutcome(t, alice, { update: [c.id as string, { parentId: null }] }), undefined);
    assert.equal((await mailboxesByName(t, alice)).Beta.parentId, null);
    const inbox = got.Inbox.id as string;
    assert.equal(await setOutcome(t, alice, { update: [c.id as string, { parentId: inbox }] }), undefined);
    assert.equal((await mailboxesByName(t, alice)).Beta.parentId, inbox);

    const destroyed = await setMailboxes(t, alice, { destroy: [c.id, p.id] });
    assert.deepEqual(sorted(destroyed.destroyed), sorted([c.id, p.id]));
    const after = await mailCall(t, "Mailbox/get", { ids: [c.id, p.id] }, alice);
    assert.deepEqual(after.list, []);
    assert.deepEqual(sorted(after.notFound), sorted([c.id, p.id]));
  }));

Deno.test("Mailbox/set refuses a taken role, a cycle, a bad name and too deep a tree, naming the property", () =>
  withUsers(async (t, alice, bob) => {
    const mine = await mailboxesByName(t, alice);
    const parent = await createMailbox(t, alice, { name: "Parent" });
    const child = await createMailbox(t, alice, { name: "Child", parentId: parent.id });
    await createMailbox(t, alice, { name: "Café" });
    const bobs = await mailboxesByName(t, bob);
    const cases: [string, Parameters<typeof setOutcome>[2], string][] = [
      ["a second inbox", { create: { name: "Inbox 2", role: "inbox" } }, "role"],
      ["taking trash's role", { update: [parent.id as string, { role: "trash" }] }, "role"],
      ["an unknown role", { create: { name: "X", role: "not-a-role" } }, "role"],
      ["a parent under its child", { update: [parent.id as string, { parentId: child.id }] }, "parentId"],
      ["a mailbox under itself", { update: [parent.id as string, { parentId: parent.id }] }, "parentId"],
      ["a parent that does not exist", { create: { name: "X", parentId: "zzzz" } }, "parentId"],
      ["another user's mailbox as parent", { create: { name: "X", parentId: bobs.Inbox.id } }, "parentId"],
      ["a 256-character name", { create: { name: "x".repeat(256) } }, "name"],
      ["an empty name", { create: { name: "" } }, "name"],
      ["no name", { create: { sortOrder: 3 } }, "name"],
      ["a control character", { create: { name: "a\u0007b" } }, "name"],
      ["a server-set property", { create: { name: "X", totalEmails: 3 } }, "totalEmails"],
      ["an unknown property", { create: { name: "X", colour: "red" } }, "colour"],
    ];
    for (const [label, operation, property] of cases) {
      const error = await setOutcome(t, alice, operation);
      assert.ok(error, `${label} was accepted`);
      assert.equal(error.type, "invalidProperties", `${label}: ${JSON.stringify(error)}`);
      assert.deepEqual(error.properties, [property], `${label}: ${JSON.stringify(error)}`);
    }
    // Nothing of the refused writes happened.
    const after = await mailboxesByName(t, alice);
    assert.deepEqual(Object.keys(after).sort(), [...Object.keys(mine), "Café", "Child", "Parent"].sort());
    assert.equal(after.Parent.parentId, null);
    assert.equal(after.Parent.role, null);

    // The same name is fine under another parent, and a 255-character name is fine.
    await createMailbox(t, alice, { name: "Inbox", parentId: parent.id });
    await createMailbox(t, alice, { name: "y".repeat(255) });
  }));

Deno.test("a tree of maxMailboxDepth levels is accepted and one level more is invalidProperties [parentId]", () =>
  withUsers(async (t, alice) => {
    const create: Record<string, Obj> = { l1: { name: "L1" } };
    for (let level = 2; level <= 10; level++) {
      create[`l${level}`] = { name: `L${level}`, parentId: `#l${level - 1}` };
    }
    const chain = await setMailboxes(t, alice, { create });
    assert.equal(chain.notCreated, null, JSON.stringify(chain.notCreated));
    const ten = (chain.created as Record<string, Obj>).l10.id;
    const error = await setOutcome(t, alice, { create: { name: "L11", parentId: ten } });
    assert.equal(error?.type, "invalidProperties", JSON.stringify(error));
    assert.deepEqual(error?.properties, ["parentId"]);
  }));

Deno.test("moving a mailbox refuses when its children would end deeper than maxMailboxDepth", () =>
  withUsers(async (t, alice) => {
    // A chain of 8 levels and a separate mailbox with a child and a grandchild (3 levels).
    const create: Record<string, Obj> = { a1: { name: "A1" } };
    for (let level = 2; level <= 8; level++) {
      create[`a${level}`] = { name: `A${level}`, parentId: `#a${level - 1}` };
    }
    create.b1 = { name: "B1" };
    create.b2 = { name: "B2", parentId: "#b1" };
    create.b3 = { name: "B3", parentId: "#b2" };
    const made = await setMailboxes(t, alice, { create });
    assert.equal(made.notCreated, null, JSON.stringify(made.notCreated));
    const ids = made.created as Record<string, Obj>;
    // B1 under A8 would be level 9, but B3 would be level 11.
    const error = await setOutcome(t, alice, { update: [ids.b1.id as string, { parentId: ids.a8.id }] });
    assert.equal(error?.type, "invalidProperties", `B3 would sit 11 levels deep: ${JSON.stringify(error)}`);
    assert.deepEqual(error?.properties, ["parentId"]);
  }));

Deno.test("a name's limit counts UTF-8 octets, as maxSizeMailboxName says", () =>
  withUsers(async (t, alice) => {
    // 128 "é" are 128 characters but 256 octets (RFC 8621 §1.3.1: "in (UTF-8) octets").
    const error = await setOutcome(t, alice, { create: { name: "é".repeat(128) } });
    assert.equal(error?.type, "invalidProperties", `a 256-octet name was accepted: ${JSON.stringify(error)}`);
    assert.deepEqual(error?.properties, ["name"]);
    await createMailbox(t, alice, { name: "é".repeat(127) + "e" });
  }));

Deno.test("destroying a mailbox with children is mailboxHasChild; an unknown id is notFound", () =>
  withUsers(async (t, alice) => {
    const parent = await createMailbox(t, alice, { name: "Parent" });
    const child = await createMailbox(t, alice, { name: "Child", parentId: parent.id });
    const refused = await setOutcome(t, alice, { destroy: parent.id as string });
    assert.equal(refused?.type, "mailboxHasChild", JSON.stringify(refused));
    assert.ok((await mailboxesByName(t, alice)).Parent, "the parent is still there");

    assert.equal((await setOutcome(t, alice, { destroy: "zzzz" }))?.type, "notFound");
    assert.equal((await setOutcome(t, alice, { update: ["zzzz", { name: "X" }] }))?.type, "notFound");
    assert.equal((await setOutcome(t, alice, { destroy: "not an id!" }))?.type, "notFound");

    // Children first, then the parent, in one request.
    const both = await setMailboxes(t, alice, { destroy: [child.id, parent.id] });
    assert.deepEqual(both.destroyed, [child.id, parent.id]);
    assert.equal(both.notDestroyed, null);
  }));

Deno.test("a user cannot reach another user's mailboxes without a grant: accountNotFound for every method", () =>
  withUsers(async (t, alice, bob) => {
    const { Inbox } = await mailboxesByName(t, alice);
    const s0 = await mailboxState(t, alice);
    const calls: [string, Obj][] = [
      ["Mailbox/get", { ids: null }],
      ["Mailbox/get", { ids: [Inbox.id] }],
      ["Mailbox/set", { update: { [Inbox.id as string]: { name: "Mine" } } }],
      ["Mailbox/set", { create: { x: { name: "Planted" } } }],
      ["Mailbox/set", { destroy: [Inbox.id] }],
      ["Mailbox/changes", { sinceState: s0 }],
      ["Mailbox/query", {}],
      ["Mailbox/queryChanges", { sinceQueryState: s0 }],
    ];
    for (const [name, args] of calls) {
      const error = await mailError(t, name, { ...args, accountId: alice.accountId }, bob);
      assert.equal(error.type, "accountNotFound", `${name}: ${JSON.stringify(error)}`);
    }
    assert.equal((await mailError(t, "Mailbox/get", { accountId: "zzzzzz" }, bob)).type, "accountNotFound");
    assert.deepEqual(Object.keys((await getSession(t, bob.auth)).accounts), [bob.accountId]);
    const mine = await mailboxesByName(t, alice);
    assert.equal(mine.Inbox.name, "Inbox");
    assert.equal(mine.Planted, undefined);
    assert.equal(await mailboxState(t, alice), s0);
  }));

Deno.test("Mailbox/set update refuses changed server-set properties, every one named, and accepts them unchanged (RFC 8620 §5.3)", () =>
  withUsers(async (t, alice) => {
    const { Inbox } = await mailboxesByName(t, alice);
    const id = Inbox.id as string;
    // RFC 8620 §5.3: "Any server-set properties MAY be included in the patch if their value is identical
    // to the current server value (before applying the patches to the object). Otherwise, the update
    // MUST be rejected with an invalidProperties SetError."
    const changed = await setMailboxes(t, alice, {
      update: { [id]: { totalEmails: 42, unreadThreads: 7, "myRights/mayDelete": false, name: "Renamed" } },
    });
    assert.equal(changed.updated, null, JSON.stringify(changed));
    const error = (changed.notUpdated as Record<string, Obj>)[id];
    assert.equal(error.type, "invalidProperties", JSON.stringify(error));
    assert.deepEqual(sorted(error.properties), sorted(["totalEmails", "unreadThreads", "myRights"]));
    const after = (await mailboxesByName(t, alice)).Inbox;
    assert.equal(after.name, "Inbox");
    assert.equal(after.totalEmails, 0);
    assert.deepEqual(after.myRights, Inbox.myRights);

    const same = await setMailboxes(t, alice, {
      update: { [id]: { totalEmails: 0, myRights: Inbox.myRights, sortOrder: 5 } },
    });
    assert.equal(same.notUpdated, null, JSON.stringify(same.notUpdated));
    assert.deepEqual(Object.keys(same.updated as Obj), [id]);
    assert.equal((await mailboxesByName(t, alice)).Inbox.sortOrder, 5);
  }));

Deno.test("a sibling's name is alreadyExists with the existing mailbox's id in existingId, on create, rename and move (RFC 8620 §5.4)", () =>
  withUsers(async (t, alice) => {
    const mine = await mailboxesByName(t, alice);
    const cafe = await createMailbox(t, alice, { name: "Café" });
    const parent = await createMailbox(t, alice, { name: "Parent" });
    const inner = await createMailbox(t, alice, { name: "Trash", parentId: parent.id });
    const cases: [string, Parameters<typeof setOutcome>[2], unknown][] = [
      ["a sibling's name", { create: { name: "Inbox" } }, mine.Inbox.id],
      ["a sibling's name in another normal form", { create: { name: "Cafe\u0301" } }, cafe.id],
      ["renaming onto a sibling", { update: [mine.Junk.id as string, { name: "Trash" }] }, mine.Trash.id],
      ["moving next to a namesake", { update: [inner.id as string, { parentId: null }] }, mine.Trash.id],
    ];
    for (const [label, operation, existingId] of cases) {
      const error = await setOutcome(t, alice, operation);
      assert.ok(error, `${label} was accepted`);
      // RFC 8620 §5.4: "alreadyExists: The server forbids duplicates, and the record already exists in
      // the target account. An "existingId" property of type "Id" MUST be included on the SetError
      // object with the id of the existing record."
      assert.equal(error.type, "alreadyExists", `${label}: ${JSON.stringify(error)}`);
      assert.equal(error.existingId, existingId, `${label}: ${JSON.stringify(error)}`);
      assert.equal(typeof error.description, "string");
    }
    const after = await mailboxesByName(t, alice);
    assert.equal(after.Junk.id, mine.Junk.id);
    assert.deepEqual(Object.keys(after).sort(), [...Object.keys(mine), "Café", "Parent"].sort());
  }));
