/**
 * Keeping a client in sync (RFC 8620 §5.2, §5.5, §5.6): /changes, /query and /queryChanges of the
 * management types, and /set updates through patch paths.
 */
import assert from "node:assert/strict";
import { basic, PASSWORD, type TestApp } from "./helpers.ts";
import { call, callError, create, createUser, jmap, set, withApp } from "./jmap_helpers.ts";

type Obj = Record<string, unknown>;

async function stateOf(t: TestApp, type: string): Promise<string> {
  return (await call(t, `${type}/get`, { ids: [] })).state as string;
}

async function changesSince(t: TestApp, type: string, sinceState: string, maxChanges?: number) {
  return await call(t, `${type}/changes`, { sinceState, ...(maxChanges ? { maxChanges } : {}) });
}

function sorted(ids: unknown): string[] {
  return [...(ids as string[])].sort();
}

/** created, updated and destroyed never share an id (RFC 8620 §5.2). */
function assertDisjoint(changes: Obj): void {
  const all = [
    ...(changes.created as string[]),
    ...(changes.updated as string[]),
    ...(changes.destroyed as string[]),
  ];
  assert.equal(new Set(all).size, all.length, `overlapping changes: ${JSON.stringify(changes)}`);
}

Deno.test("x:Domain/changes folds creates, updates and destroys; created-then-destroyed vanishes", () =>
  withApp(async (t) => {
    const s0 = await stateOf(t, "x:Domain");
    const created = await set(t, "x:Domain", {
      create: { a: { name: "a.example" }, b: { name: "b.example" }, c: { name: "c.example" } },
    });
    const ids = Object.fromEntries(
      Object.entries(created.created as Record<string, Obj>).map(([k, v]) => [k, v.id as string]),
    );
    const s1 = await stateOf(t, "x:Domain");
    assert.equal(created.newState, s1);

    await set(t, "x:Domain", { update: { [ids.a]: { description: "A" }, b: { description: "Main" } } });
    await set(t, "x:Domain", { destroy: [ids.b] });
    const temp = await create(t, "x:Domain", { name: "temp.example" });
    await set(t, "x:Domain", { destroy: [temp.id] });

    const fromStart = await changesSince(t, "x:Domain", s0);
    assert.equal(fromStart.oldState, s0);
    assert.equal(fromStart.hasMoreChanges, false);
    assert.deepEqual(sorted(fromStart.created), sorted([ids.a, ids.c]));
    assert.deepEqual(fromStart.updated, ["b"]);
    assert.deepEqual(fromStart.destroyed, []);
    assertDisjoint(fromStart);

    const fromCreates = await changesSince(t, "x:Domain", s1);
    assert.deepEqual(fromCreates.created, []);
    assert.deepEqual(sorted(fromCreates.updated), sorted([ids.a, "b"]));
    assert.deepEqual(fromCreates.destroyed, [ids.b]);
    assertDisjoint(fromCreates);

    const now = await stateOf(t, "x:Domain");
    assert.equal(fromStart.newState, now);
    assert.equal(fromCreates.newState, now);
    const nothing = await changesSince(t, "x:Domain", now);
    assert.deepEqual(
      [nothing.newState, nothing.hasMoreChanges, nothing.created, nothing.updated, nothing.destroyed],
      [now, false, [], [], []],
    );
  }));

Deno.test("x:Account/changes reports new, changed and deleted accounts, and members of a deleted group", () =>
  withApp(async (t) => {
    const s0 = await stateOf(t, "x:Account");
    const group = await create(t, "x:Account", { "@type": "Group", name: "team", domainId: "b" });
    const alice = await create(t, "x:Account", { name: "alice", domainId: "b", memberGroupIds: [group.id] });
    const bob = await create(t, "x:Account", { name: "bob", domainId: "b" });
    const s1 = await stateOf(t, "x:Account");

    await set(t, "x:Account", { update: { [bob.id as string]: { description: "Bob" } } });
    await set(t, "x:Account", { destroy: [group.id] });

    const fromStart = await changesSince(t, "x:Account", s0);
    assert.deepEqual(sorted(fromStart.created), sorted([alice.id, bob.id]));
    assert.deepEqual(fromStart.updated, []);
    assert.deepEqual(fromStart.destroyed, []);

    const fromCreates = await changesSince(t, "x:Account", s1);
    assert.deepEqual(fromCreates.created, []);
    assert.deepEqual(sorted(fromCreates.updated), sorted([alice.id, bob.id]), "alice lost her group");
    assert.deepEqual(fromCreates.destroyed, [group.id]);
    assertDisjoint(fromCreates);
    assert.equal(fromCreates.newState, await stateOf(t, "x:Account"));
    const aliceNow = await call(t, "x:Account/get", { ids: [alice.id], properties: ["memberGroupIds"] });
    assert.deepEqual((aliceNow.list as Obj[])[0].memberGroupIds, {});
  }));

Deno.test("renaming a domain reports the accounts in it as updated, since their addresses changed", () =>
  withApp(async (t) => {
    const domain = await create(t, "x:Domain", { name: "old.example" });
    const erin = await create(t, "x:Account", { name: "erin", domainId: domain.id });
    const since = await stateOf(t, "x:Account");
    const renamed = await set(t, "x:Domain", { update: { [domain.id as string]: { name: "new.example" } } });
    assert.equal(renamed.notUpdated, null);
    const changes = await changesSince(t, "x:Account", since);
    assert.deepEqual(changes.updated, [erin.id]);
    const after = await call(t, "x:Account/get", { ids: [erin.id], properties: ["emailAddress"] });
    assert.equal((after.list as Obj[])[0].emailAddress, "erin@new.example");
  }));

Deno.test("maxChanges pages through changes with hasMoreChanges until the current state", () =>
  withApp(async (t) => {
    const since = await stateOf(t, "x:Domain");
    const names = ["p1", "p2", "p3", "p4", "p5"];
    const created = await set(t, "x:Domain", {
      create: Object.fromEntries(names.map((n) => [n, { name: `${n}.example` }])),
    });
    const all = Object.values(created.created as Record<string, Obj>).map((d) => d.id as string);
    await set(t, "x:Domain", { update: { [all[0]]: { description: "changed after its creation" } } });

    const seen: string[] = [];
    let state = since;
    const pages: boolean[] = [];
    for (let page = 0; page < 10; page++) {
      const changes = await changesSince(t, "x:Domain", state, 2);
      assert.equal(changes.oldState, state);
      const ids = [
        ...(changes.created as string[]),
        ...(changes.updated as string[]),
        ...(changes.destroyed as string[]),
      ];
      assert.ok(ids.length <= 2, `page ${page}: ${JSON.stringify(changes)}`);
      seen.push(...(changes.created as string[]));
      pages.push(changes.hasMoreChanges as boolean);
      state = changes.newState as string;
      if (!changes.hasMoreChanges) break;
    }
    assert.deepEqual(pages, [true, true, false]);
    assert.deepEqual(sorted(seen), sorted(all));
    assert.equal(state, await stateOf(t, "x:Domain"));
  }));

/** A directory to query: two domains, users and groups. */
async function directory(t: TestApp) {
  const other = await create(t, "x:Domain", { name: "other.example" });
  const team = await create(t, "x:Account", { "@type": "Group", name: "team", domainId: "b" });
  const ops = await create(t, "x:Account", { "@type": "Group", name: "ops", domainId: other.id });
  const alice = await create(t, "x:Account", { name: "alice", domainId: "b", memberGroupIds: [team.id] });
  const bob = await create(t, "x:Account", {
    name: "bob",
    domainId: other.id,
    memberGroupIds: [team.id, ops.id],
    enabled: false,
  });
  const carol = await create(t, "x:Account", {
    name: "carol",
    domainId: "b",
    description: "Carol from Finance",
    aliases: ["billing@other.example"],
  });
  const id = (o: Obj) => o.id as string;
  return {
    domain: id(other),
    admin: "b",
    team: id(team),
    ops: id(ops),
    alice: id(alice),
    bob: id(bob),
    carol: id(carol),
  };
}

async function query(t: TestApp, args: Obj, type = "x:Account") {
  return await call(t, `${type}/query`, args);
}

Deno.test("x:Account/query filters by name, text, @type, domainId, memberOf and operators", () =>
  withApp(async (t) => {
    const d = await directory(t);
    const cases: [string, Obj, string[]][] = [
      ["name", { name: "alice" }, [d.alice]],
      ["name in another case", { name: "ALICE" }, [d.alice]],
      ["text in a description", { text: "finance" }, [d.carol]],
      ["text in an alias", { text: "billing" }, [d.carol]],
      ["text in a name", { text: "lic" }, [d.alice]],
      ["@type Group", { "@type": "Group" }, [d.team, d.ops]],
      ["domainId", { domainId: d.domain }, [d.ops, d.bob]],
      ["memberOf", { memberOf: d.team }, [d.alice, d.bob]],
      ["enabled", { enabled: false }, [d.bob]],
      ["emailAddress", { emailAddress: "Billing@Other.Example" }, [d.carol]],
      ["an id that cannot exist", { domainId: "not an id!" }, []],
      ["AND", { operator: "AND", conditions: [{ "@type": "User" }, { domainId: "b" }] }, [
        d.admin,
        d.alice,
        d.carol,
      ]],
      ["OR", { operator: "OR", conditions: [{ name: "alice" }, { name: "bob" }] }, [d.alice, d.bob]],
      ["NOT", { operator: "NOT", conditions: [{ "@type": "User" }] }, [d.team, d.ops]],
      ["NOT of two", { operator: "NOT", conditions: [{ "@type": "Group" }, { domainId: "b" }] }, [d.bob]],
      ["nested", {
        operator: "AND",
        conditions: [
          { memberOf: d.team },
          { operator: "NOT", conditions: [{ domainId: d.domain }] },
        ],
      }, [d.alice]],
    ];
    for (const [label, filter, expected] of cases) {
      const result = await query(t, { filter });
      assert.deepEqual(result.ids, expected, label);
      assert.equal(result.position, 0, label);
    }
  }));

Deno.test("x:Account/query sorts, pages by position, anchor and limit, and counts on request", () =>
  withApp(async (t) => {
    const d = await directory(t);
    const byName = [d.admin, d.alice, d.bob, d.carol, d.ops, d.team];
    const descending = [...byName].reverse();

    const all = await query(t, { sort: [{ property: "name", isAscending: false }], calculateTotal: true });
    assert.deepEqual(all.ids, descending);
    assert.equal(all.total, 6);
    assert.equal(all.position, 0);
    assert.equal(all.canCalculateChanges, true);
    assert.equal(all.queryState, await (async () => (await call(t, "x:Account/get", { ids: [] })).state)());

    const noTotal = await query(t, { sort: [{ property: "name" }] });
    assert.equal(noTotal.total, undefined);
    assert.deepEqual(noTotal.ids, byName);

    const sort = [{ property: "name" }];
    const cases: [string, Obj, string[], number][] = [
      ["position and limit", { position: 1, limit: 2 }, [d.alice, d.bob], 1],
      ["negative position", { position: -2 }, [d.ops, d.team], 4],
      ["negative position past the start", { position: -10, limit: 1 }, [d.admin], 0],
      ["position past the end", { position: 10, calculateTotal: true }, [], 6],
      ["limit", { limit: 3 }, [d.admin, d.alice, d.bob], 0],
      ["anchor", { anchor: d.bob, limit: 2 }, [d.bob, d.carol], 2],
      ["anchor with a negative offset", { anchor: d.bob, anchorOffset: -1, limit: 2 }, [d.alice, d.bob], 1],
      ["anchor with a positive offset", { anchor: d.alice, anchorOffset: 3 }, [d.ops, d.team], 4],
      ["anchor offset before the start", { anchor: d.alice, anchorOffset: -5, limit: 1 }, [d.admin], 0],
      ["anchor ignores position", { anchor: d.carol, position: 5, limit: 1 }, [d.carol], 3],
    ];
    for (const [label, window, ids, position] of cases) {
      const result = await query(t, { sort, ...window });
      assert.deepEqual(result.ids, ids, label);
      assert.equal(result.position, position, label);
    }
    const byEmail = await query(t, { sort: [{ property: "emailAddress" }, { property: "name" }] });
    // Addresses compare from their local part, as a string.
    assert.deepEqual(byEmail.ids, byName);
  }));

Deno.test("x:Domain/query filters, sorts and pages in the same way", () =>
  withApp(async (t) => {
    const ids: string[] = ["b"];
    for (const name of ["alpha.example", "beta.example", "gamma.example"]) {
      ids.push(
        (await create(t, "x:Domain", { name, description: name === "beta.example" ? "Beta" : null }))
          .id as string,
      );
    }
    const [main, alpha, beta, gamma] = ids;
    const cases: [string, Obj, string[], number][] = [
      ["all by id", {}, [main, alpha, beta, gamma], 0],
      [
        "name descending",
        { sort: [{ property: "name", isAscending: false }] },
        [gamma, main, beta, alpha],
        0,
      ],
      ["name filter", { filter: { name: "beta.example" } }, [beta], 0],
      ["text filter", { filter: { text: "BETA" } }, [beta], 0],
      ["NOT", { filter: { operator: "NOT", conditions: [{ text: "beta" }] } }, [main, alpha, gamma], 0],
      ["OR", {
        filter: { operator: "OR", conditions: [{ name: "alpha.example" }, { name: "gamma.example" }] },
      }, [
        alpha,
        gamma,
      ], 0],
      ["negative position", { position: -1 }, [gamma], 3],
      ["anchor and offset", { anchor: beta, anchorOffset: -1, limit: 2 }, [alpha, beta], 1],
      ["limit", { limit: 1, position: 1 }, [alpha], 1],
    ];
    for (const [label, args, expected, position] of cases) {
      const result = await query(t, { ...args, calculateTotal: true }, "x:Domain");
      assert.deepEqual(result.ids, expected, label);
      assert.equal(result.position, position, label);
    }
    const counted = await query(
      t,
      { filter: { text: ".example" }, calculateTotal: true, limit: 1 },
      "x:Domain",
    );
    assert.equal(counted.total, 3);
    assert.equal((counted.ids as string[]).length, 1);
  }));

Deno.test("x:Account/queryChanges reports a created account at its index and a destroyed one as removed", () =>
  withApp(async (t) => {
    const d = await directory(t);
    const sort = [{ property: "name" }];
    const before = await query(t, { sort });
    const dave = await create(t, "x:Account", { name: "dave", domainId: "b" });
    const afterCreate = await query(t, { sort, calculateTotal: true });
    assert.deepEqual(afterCreate.ids, [d.admin, d.alice, d.bob, d.carol, dave.id, d.ops, d.team]);

    const added = await call(t, "x:Account/queryChanges", { sinceQueryState: before.queryState, sort });
    assert.equal(added.oldQueryState, before.queryState);
    assert.equal(added.newQueryState, afterCreate.queryState);
    assert.deepEqual(added.added, [{ id: dave.id, index: 4 }]);
    assert.equal(added.total, 7);
    assert.deepEqual(added.removed, [], "an account created since was in no earlier result");

    await set(t, "x:Account", { destroy: [d.bob] });
    const afterDestroy = await query(t, { sort });
    const removed = await call(t, "x:Account/queryChanges", {
      sinceQueryState: afterCreate.queryState,
      sort,
    });
    assert.deepEqual(removed.removed, [d.bob]);
    assert.deepEqual(removed.added, []);
    assert.equal(removed.total, 6);
    assert.equal(removed.newQueryState, afterDestroy.queryState);

    // An unchanged query has nothing to report.
    const none = await call(t, "x:Account/queryChanges", { sinceQueryState: afterDestroy.queryState, sort });
    assert.deepEqual([none.added, none.removed], [[], []]);
    assert.equal(none.newQueryState, afterDestroy.queryState);
  }));

Deno.test("x:Domain/queryChanges with a filter adds only the matching new domain", () =>
  withApp(async (t) => {
    const filter = { text: "shop" };
    const before = await query(t, { filter }, "x:Domain");
    assert.deepEqual(before.ids, []);
    const shop = await create(t, "x:Domain", { name: "shop.example" });
    await create(t, "x:Domain", { name: "blog.example" });
    const changes = await call(t, "x:Domain/queryChanges", { sinceQueryState: before.queryState, filter });
    assert.deepEqual(changes.added, [{ id: shop.id, index: 0 }]);
    assert.equal(changes.total, 1);
    const tooMany = await callError(t, "x:Domain/queryChanges", {
      accountId: "b",
      sinceQueryState: before.queryState,
      maxChanges: 1,
    });
    assert.equal(tooMany.type, "tooManyChanges");
  }));

Deno.test("an update through a patch path changes one quota and keeps the others", () =>
  withApp(async (t) => {
    const bob = await create(t, "x:Account", { name: "bob", domainId: "b", quotas: { maxApiKeys: 3 } });
    const first = await set(t, "x:Account", { update: { [bob.id as string]: { "quotas/maxDiskQuota": 5 } } });
    assert.equal(first.notUpdated, null, JSON.stringify(first.notUpdated));
    const got = await call(t, "x:Account/get", { ids: [bob.id], properties: ["quotas"] });
    assert.deepEqual((got.list as Obj[])[0].quotas, { maxApiKeys: 3, maxDiskQuota: 5 });

    const removed = await set(t, "x:Account", {
      update: { [bob.id as string]: { "quotas/maxApiKeys": null } },
    });
    assert.equal(removed.notUpdated, null, JSON.stringify(removed.notUpdated));
    const after = await call(t, "x:Account/get", { ids: [bob.id], properties: ["quotas"] });
    assert.deepEqual((after.list as Obj[])[0].quotas, { maxDiskQuota: 5 });

    const invalid = await set(t, "x:Account", {
      update: { [bob.id as string]: { "quotas/maxDiskQuota": -5 } },
    });
    assert.equal((invalid.notUpdated as Record<string, Obj>)[bob.id as string].type, "invalidProperties");
    assert.deepEqual((invalid.notUpdated as Record<string, Obj>)[bob.id as string].properties, ["quotas"]);
  }));

Deno.test("null for a top-level property in an update resets it to its default", {
  // Was a bug: src/jmap/standard/methods.ts set() passes a top-level null from the patch straight to
  // validation (src/model/objects/spec.ts validateObject), so {enabled: null} or {quotas: null} is
  // invalidProperties ["enabled", "quotas"]. RFC 8620 §5.3 (PatchObject): null sets the property to
  // its default value if one is specified (enabled: true, quotas: {}).
}, () =>
  withApp(async (t) => {
    const bob = await create(t, "x:Account", {
      name: "bob",
      domainId: "b",
      enabled: false,
      quotas: { maxApiKeys: 2 },
    });
    const result = await set(t, "x:Account", {
      update: { [bob.id as string]: { enabled: null, quotas: null } },
    });
    assert.equal(result.notUpdated, null, JSON.stringify(result.notUpdated));
    const got = await call(t, "x:Account/get", { ids: [bob.id], properties: ["enabled", "quotas"] });
    assert.deepEqual(got.list, [{ id: bob.id, enabled: true, quotas: {} }]);
  }));

Deno.test("a patch of credentials/0/secret changes the password: the new one logs in, the old one not", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    const session = (authorization: string) => t.fetch("/jmap/session", { headers: { authorization } });
    assert.equal((await session(user.auth)).status, 200);

    const fresh = "a completely different passphrase";
    const result = await set(t, "x:Account", { update: { [user.id]: { "credentials/0/secret": fresh } } });
    assert.equal(result.notUpdated, null, JSON.stringify(result.notUpdated));
    const got = await call(t, "x:Account/get", { ids: [user.id], properties: ["credentials"] });
    assert.deepEqual((got.list as Obj[])[0].credentials, {
      "0": { "@type": "Password", secret: "********" },
    });

    const newLogin = await session(basic("alice@example.org", fresh));
    assert.equal(newLogin.status, 200);
    assert.equal((await newLogin.json()).username, "alice@example.org");
    const oldLogin = await session(basic("alice@example.org", PASSWORD));
    assert.equal(oldLogin.status, 401);
    await oldLogin.body?.cancel();
  }));

Deno.test("writing back the masked password leaves the password unchanged", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    const { list } = await call(t, "x:Account/get", { ids: [user.id] });
    const account = (list as Obj[])[0];
    const result = await set(t, "x:Account", {
      update: { [user.id]: { credentials: account.credentials, description: "Alice" } },
    });
    assert.equal(result.notUpdated, null, JSON.stringify(result.notUpdated));
    const response = await t.fetch("/jmap/session", { headers: { authorization: user.auth } });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }));

Deno.test("a user's x:Account/query finds only their own account", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    await create(t, "x:Account", { name: "bob", domainId: "b" });
    const result = await call(t, "x:Account/query", { calculateTotal: true }, user);
    assert.deepEqual(result.ids, [user.id]);
    assert.equal(result.total, 1);
    const { methodResponses } = await jmap(t, [
      ["x:Account/query", { accountId: user.id, filter: { name: "bob" } }, "0"],
    ], { auth: user.auth });
    assert.deepEqual(methodResponses[0][1].ids, []);
  }));
