/**
 * Principals (RFC 9670) as clients see them: the capabilities in the session, Principal/get
 * scoped to the caller's domain (an admin sees every account; an owner who shares with the caller is
 * seen too), /query filters and sorts, and /changes and /queryChanges over account writes.
 */
import assert from "node:assert/strict";
import { basic, PASSWORD, type TestApp } from "./helpers.ts";
import { ADMIN, CORE, create, MAIL, withApp } from "./jmap_helpers.ts";
import {
  adminSetAccounts,
  createUsers,
  getSession,
  mailboxesByName,
  mailCall,
  mailError,
  type Obj,
  PRINCIPALS,
  rights,
  share,
  type Who,
} from "./mail_helpers.ts";

const OWNER = "urn:ietf:params:jmap:principals:owner";

/** The admin as a {@link Who}: account "b" in example.org. */
const admin: Who = { accountId: "b", auth: ADMIN, emailAddress: "admin@example.org" };

/** Creates the domain other.example with the user carol in it; returns carol. */
async function otherDomainUser(t: TestApp, name = "carol"): Promise<Who & { domainId: string }> {
  const domain = await create(t, "x:Domain", { name: "other.example" });
  const account = await create(t, "x:Account", {
    "@type": "User",
    name,
    domainId: domain.id,
    roles: { "0": "user" },
    credentials: { "0": { "@type": "Password", secret: PASSWORD } },
  });
  const emailAddress = `${name}@other.example`;
  return {
    accountId: account.id as string,
    auth: basic(emailAddress, PASSWORD),
    emailAddress,
    domainId: domain.id as string,
  };
}

/** Principal/get of some ids as `who`: found objects by id, and the ids not found. */
async function getPrincipals(t: TestApp, who: Who, ids: string[] | null) {
  const result = await mailCall(t, "Principal/get", { ids }, who);
  const list = result.list as Obj[];
  return {
    byId: Object.fromEntries(list.map((p) => [p.id as string, p])),
    notFound: result.notFound,
    result,
  };
}

Deno.test("the session has the principals capability, the user's principal id and the owner of every account", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const session = await getSession(t, alice.auth);
    assert.deepEqual((session.capabilities as Obj)[PRINCIPALS], {});
    assert.equal((session.primaryAccounts as Obj)[PRINCIPALS], alice.accountId);
    const own = session.accounts[alice.accountId].accountCapabilities as Obj;
    assert.deepEqual(own[PRINCIPALS], { currentUserPrincipalId: alice.accountId });
    assert.deepEqual(own[OWNER], { accountIdForPrincipal: alice.accountId, principalId: alice.accountId });

    await share(t, bob, (await mailboxesByName(t, bob)).Inbox.id as string, {
      [alice.accountId]: rights("mayReadItems"),
    });
    const withShare = await getSession(t, alice.auth);
    const shared = withShare.accounts[bob.accountId].accountCapabilities as Obj;
    assert.deepEqual(shared[OWNER], { accountIdForPrincipal: alice.accountId, principalId: bob.accountId });
    assert.equal(PRINCIPALS in shared, false, "principals live in the user's own account only");
    // The owner named there is a principal alice can get, in the account the capability names.
    const { byId } = await getPrincipals(t, alice, [bob.accountId]);
    assert.equal(byId[bob.accountId].email, "bob@example.org");
  }));

Deno.test("Principal/get returns the caller and users of their domain, with the session's accounts for the caller", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    await adminSetAccounts(t, { update: { [bob.accountId]: { description: "Bob Builder" } } });
    const { byId, notFound } = await getPrincipals(t, alice, [alice.accountId, bob.accountId]);
    assert.deepEqual(notFound, []);
    const session = await getSession(t, alice.auth);
    assert.deepEqual(byId[alice.accountId], {
      id: alice.accountId,
      type: "individual",
      name: "alice",
      description: null,
      email: "alice@example.org",
      timeZone: null,
      capabilities: {},
      accounts: { [alice.accountId]: session.accounts[alice.accountId] },
    });
    assert.equal(byId[bob.accountId].name, "Bob Builder");
    assert.equal(byId[bob.accountId].description, "Bob Builder");
    assert.equal(byId[bob.accountId].email, "bob@example.org");
    assert.equal(byId[bob.accountId].accounts, null, "bob shares nothing with alice");

    // Without a description, the name is the account's name.
    await adminSetAccounts(t, { update: { [bob.accountId]: { description: null } } });
    const renamed = await getPrincipals(t, alice, [bob.accountId]);
    assert.equal(renamed.byId[bob.accountId].name, "bob");
    assert.equal(renamed.byId[bob.accountId].description, null);

    // Only the properties asked for (and the id).
    const some = await mailCall(
      t,
      "Principal/get",
      { ids: [bob.accountId], properties: ["email"] },
      alice,
    );
    assert.deepEqual(some.list, [{ id: bob.accountId, email: "bob@example.org" }]);
    assert.equal(typeof some.state, "string");
  }));

Deno.test("a user does not see principals of another domain (notFound); an admin sees every account", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const carol = await otherDomainUser(t);
    const asAlice = await getPrincipals(t, alice, [carol.accountId, "zzzzzz"]);
    assert.deepEqual(asAlice.byId, {});
    assert.deepEqual(asAlice.notFound, [carol.accountId, "zzzzzz"]);
    const all = await getPrincipals(t, alice, null);
    assert.deepEqual(Object.keys(all.byId).sort(), ["b", alice.accountId].sort());

    const asCarol = await getPrincipals(t, carol, null);
    assert.deepEqual(Object.keys(asCarol.byId), [carol.accountId], "carol is alone in other.example");

    const asAdmin = await getPrincipals(t, admin, null);
    assert.deepEqual(Object.keys(asAdmin.byId).sort(), ["b", alice.accountId, carol.accountId].sort());
    assert.equal(asAdmin.byId[carol.accountId].email, "carol@other.example");

    // An owner in another domain who shares with alice becomes visible to her, with that account.
    await share(t, carol, (await mailboxesByName(t, carol)).Inbox.id as string, {
      [alice.accountId]: rights("mayReadItems"),
    });
    const shared = await getPrincipals(t, alice, [carol.accountId]);
    assert.deepEqual(shared.notFound, []);
    const accounts = shared.byId[carol.accountId].accounts as Record<string, Obj>;
    assert.deepEqual(Object.keys(accounts), [carol.accountId]);
    assert.equal(accounts[carol.accountId].isPersonal, false);
    assert.equal(accounts[carol.accountId].isReadOnly, true);
  }));

Deno.test("with the Sharing singleton's principalScope set to all, users see every domain's principals", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const carol = await otherDomainUser(t);
    assert.deepEqual((await getPrincipals(t, alice, [carol.accountId])).notFound, [carol.accountId]);
    await t.services.objects.update("sharing", "singleton", { principalScope: "all" }, "system");
    const widened = await getPrincipals(t, alice, [carol.accountId]);
    assert.deepEqual(widened.notFound, []);
    assert.equal(widened.byId[carol.accountId].email, "carol@other.example");
  }));

Deno.test("a group is a principal of type group", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const { created } = await adminSetAccounts(t, {
      create: { team: { "@type": "Group", name: "team", domainId: "b", description: "The Team" } },
    });
    const team = (created as Record<string, Obj>).team.id as string;
    const { byId } = await getPrincipals(t, alice, [team]);
    assert.equal(byId[team].type, "group");
    assert.equal(byId[team].name, "The Team");
    assert.equal(byId[team].email, "team@example.org");
  }));

Deno.test("Principal/query filters by name, email, text, type, accountIds and timeZone and sorts by name and email", () =>
  withApp(async (t) => {
    const [anna, zed] = await createUsers(t, ["anna", "zed"]);
    await adminSetAccounts(t, {
      update: {
        [anna.accountId]: { description: "Zoe Anderson" },
        [zed.accountId]: { description: "Adam Zed" },
      },
      create: { team: { "@type": "Group", name: "team", domainId: "b", description: "Support" } },
    });
    const team = (await getPrincipals(t, anna, null)).result.list as Obj[];
    const teamId = team.find((p) => p.type === "group")!.id as string;
    const ids = async (filter: Obj | null, sort?: Obj[]) =>
      (await mailCall(t, "Principal/query", { filter, ...(sort ? { sort } : {}) }, anna))
        .ids as string[];

    assert.deepEqual(await ids({ name: "zoe" }), [anna.accountId]);
    assert.deepEqual(await ids({ email: "ZED@" }), [zed.accountId]);
    assert.deepEqual((await ids({ text: "and" })).sort(), [anna.accountId].sort(), "name Zoe Anderson");
    assert.deepEqual((await ids({ text: "example.org" })).length, 4);
    assert.deepEqual(await ids({ type: "group" }), [teamId]);
    assert.deepEqual((await ids({ type: "individual" })).sort(), ["b", anna.accountId, zed.accountId].sort());
    assert.deepEqual(
      await ids({ accountIds: [anna.accountId, "zzzz"] }),
      [anna.accountId],
      "her own account",
    );
    assert.deepEqual(await ids({ accountIds: [zed.accountId] }), [], "zed's account is not shared with anna");
    assert.deepEqual(await ids({ timeZone: "Europe/Paris" }), []);
    assert.deepEqual(
      await ids({ operator: "NOT", conditions: [{ type: "individual" }] }),
      [teamId],
    );

    // Names: "Adam Zed", "Administrator", "Support", "Zoe Anderson"; emails: admin, anna, team, zed.
    assert.deepEqual(await ids(null, [{ property: "name" }]), [zed.accountId, "b", teamId, anna.accountId]);
    assert.deepEqual(
      await ids(null, [{ property: "name", isAscending: false }]),
      [anna.accountId, teamId, "b", zed.accountId],
    );
    assert.deepEqual(await ids(null, [{ property: "email" }]), ["b", anna.accountId, teamId, zed.accountId]);

    const paged = await mailCall(t, "Principal/query", {
      sort: [{ property: "email" }],
      position: 1,
      limit: 2,
      calculateTotal: true,
    }, anna);
    assert.deepEqual(paged.ids, [anna.accountId, teamId]);
    assert.equal(paged.total, 4);

    const badSort = await mailError(t, "Principal/query", { sort: [{ property: "id" }] }, anna);
    assert.equal(badSort.type, "unsupportedSort");
    const badFilter = await mailError(t, "Principal/query", { filter: { domainId: "b" } }, anna);
    assert.equal(badFilter.type, "unsupportedFilter");
    const badValue = await mailError(t, "Principal/query", { filter: { name: 3 } }, anna);
    assert.equal(badValue.type, "invalidArguments");
  }));

Deno.test("Principal/changes reports a new account of the caller's domain and never one of another domain", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const before = (await mailCall(t, "Principal/get", { ids: [] }, alice)).state as string;
    const [bob] = await createUsers(t, ["bob"]);
    const carol = await otherDomainUser(t);
    const changes = await mailCall(t, "Principal/changes", { sinceState: before }, alice);
    assert.deepEqual(changes.created, [bob.accountId]);
    assert.deepEqual(changes.updated, []);
    assert.deepEqual(changes.destroyed, []);
    assert.equal(changes.hasMoreChanges, false);
    const after = (await mailCall(t, "Principal/get", { ids: [] }, alice)).state;
    assert.equal(changes.newState, after);
    // The admin sees both.
    const asAdmin = await mailCall(t, "Principal/changes", { sinceState: before }, admin);
    assert.deepEqual((asAdmin.created as string[]).sort(), [bob.accountId, carol.accountId].sort());

    // An update of an account alice cannot see reads as destroyed for her: were it one she had
    // (moved out of her domain), her copy must go; an id she never had is ignored by clients.
    await adminSetAccounts(t, { update: { [carol.accountId]: { description: "Carol" } } });
    const moved = await mailCall(t, "Principal/changes", { sinceState: after }, alice);
    assert.deepEqual(moved.created, []);
    assert.deepEqual(moved.updated, []);
    assert.deepEqual(moved.destroyed, [carol.accountId]);

    await adminSetAccounts(t, { update: { [bob.accountId]: { description: "Bob" } } });
    await adminSetAccounts(t, { destroy: [bob.accountId] });
    const gone = await mailCall(t, "Principal/changes", { sinceState: moved.newState }, alice);
    assert.deepEqual(gone.destroyed, [bob.accountId]);

    const bad = await mailError(t, "Principal/changes", { sinceState: "nonsense" }, alice);
    assert.equal(bad.type, "cannotCalculateChanges");
  }));

Deno.test("Principal/queryChanges adds a new account at its place in the caller's results", () =>
  withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const sort = [{ property: "email" }];
    const before = await mailCall(t, "Principal/query", { sort }, alice);
    const [bob] = await createUsers(t, ["bob"]);
    const changes = await mailCall(t, "Principal/queryChanges", {
      sort,
      sinceQueryState: before.queryState,
    }, alice);
    assert.deepEqual(changes.added, [{ id: bob.accountId, index: 2 }]);
    assert.deepEqual(changes.removed, [], "bob was in no earlier result");
    assert.equal(changes.total, 3);
  }));

Deno.test("principals are only in the caller's own account, need the capability, and cannot be written", () =>
  withApp(async (t) => {
    const [alice, bob] = await createUsers(t, ["alice", "bob"]);
    const elsewhere = await mailError(
      t,
      "Principal/get",
      { accountId: bob.accountId, ids: null },
      alice,
    );
    assert.equal(elsewhere.type, "accountNotFound");
    const adminElsewhere = await mailError(t, "Principal/query", { accountId: alice.accountId }, admin);
    assert.equal(adminElsewhere.type, "accountNotFound");

    const response = await t.fetch("/jmap", {
      method: "POST",
      headers: { authorization: alice.auth, "content-type": "application/json" },
      body: JSON.stringify({
        using: [CORE, MAIL],
        methodCalls: [["Principal/get", { accountId: alice.accountId, ids: null }, "0"]],
      }),
    });
    const [[name, error]] = (await response.json()).methodResponses;
    assert.equal(name, "error");
    assert.equal(error.type, "unknownMethod");

    const set = await mailCall(t, "Principal/set", {
      create: { x: { name: "new" } },
      update: { [alice.accountId]: { name: "Alice" } },
      destroy: [bob.accountId],
    }, alice);
    assert.equal((set.notCreated as Record<string, Obj>).x.type, "forbidden");
    assert.equal((set.notUpdated as Record<string, Obj>)[alice.accountId].type, "forbidden");
    assert.equal((set.notDestroyed as Record<string, Obj>)[bob.accountId].type, "forbidden");
  }));
