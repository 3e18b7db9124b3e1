/**
 * What a plain user may do through the management types: manage their own account and keys, and
 * nothing else. Refusals are JMAP errors or SetErrors inside a 200 response, never an HTTP 401.
 */
import assert from "node:assert/strict";
import { basic, type TestApp } from "./helpers.ts";
import {
  call,
  callError,
  create,
  createUser,
  jmap,
  notCreated,
  notUpdated,
  set,
  withApp,
} from "./jmap_helpers.ts";

type Obj = Record<string, unknown>;
type SetErrors = Record<string, Obj>;

async function withUser(body: (t: TestApp, user: Awaited<ReturnType<typeof createUser>>) => Promise<void>) {
  await withApp(async (t) => body(t, await createUser(t, "alice")));
}

function session(t: TestApp, authorization: string): Promise<Response> {
  return t.fetch("/jmap/session", { headers: { authorization } });
}

Deno.test("a user reads their own account, with or without naming its id", () =>
  withUser(async (t, user) => {
    const all = await call(t, "x:Account/get", {}, user);
    assert.deepEqual((all.list as Obj[]).map((a) => a.id), [user.id]);
    const one = await call(t, "x:Account/get", { ids: [user.id] }, user);
    const account = (one.list as Obj[])[0];
    assert.equal(account.emailAddress, "alice@example.org");
    assert.deepEqual(account.roles, { "0": "user" });
    assert.deepEqual(account.credentials, { "0": { "@type": "Password", secret: "********" } });
  }));

Deno.test("a user changes their own description, locale and password", () =>
  withUser(async (t, user) => {
    const result = await set(t, "x:Account", {
      update: { [user.id]: { description: "Alice A.", locale: "fr-CA" } },
    }, user);
    assert.equal(result.notUpdated, null, JSON.stringify(result.notUpdated));
    assert.ok(user.id in (result.updated as Obj));
    const got = await call(
      t,
      "x:Account/get",
      { ids: [user.id], properties: ["description", "locale"] },
      user,
    );
    assert.deepEqual(got.list, [{ id: user.id, description: "Alice A.", locale: "fr-CA" }]);

    const fresh = "alice's brand new passphrase";
    const password = await set(t, "x:Account", {
      update: { [user.id]: { credentials: [{ "@type": "Password", secret: fresh }] } },
    }, user);
    assert.equal(password.notUpdated, null, JSON.stringify(password.notUpdated));
    assert.equal((await session(t, basic(user.emailAddress, fresh))).status, 200);
    const old = await session(t, user.auth);
    assert.equal(old.status, 401);
    await old.body?.cancel();
  }));

Deno.test("a user creates, lists and destroys their own API key; its secret is shown once and works as Bearer", () =>
  withUser(async (t, user) => {
    const created = await create(t, "x:ApiKey", { description: "backup script" }, user);
    const secret = created.secret as string;
    assert.match(secret, /^pst_[a-z2-9]{32}$/);
    assert.equal(created.accountId, user.id);
    assert.equal(created.description, "backup script");

    const bearer = `Bearer ${secret}`;
    const viaKey = await session(t, bearer);
    assert.equal(viaKey.status, 200);
    assert.equal((await viaKey.json()).username, "alice@example.org");

    const response = await jmap(t, [
      ["x:ApiKey/get", { accountId: user.id }, "g"],
      ["x:ApiKey/query", { accountId: user.id }, "q"],
    ], { auth: user.auth });
    const [get, query] = response.methodResponses;
    assert.equal((get[1].list as Obj[]).length, 1);
    const listed = (get[1].list as Obj[])[0];
    assert.equal(listed.id, created.id);
    assert.equal("secret" in listed, false);
    assert.equal(JSON.stringify(response).includes(secret), false, "the secret never appears again");
    assert.deepEqual(query[1].ids, [created.id]);
    const asked = await call(t, "x:ApiKey/get", { ids: [created.id], properties: ["secret"] }, user);
    assert.deepEqual(asked.list, [{ id: created.id, secret: null }]);

    const destroyed = await set(t, "x:ApiKey", { destroy: [created.id] }, user);
    assert.deepEqual(destroyed.destroyed, [created.id]);
    const revoked = await session(t, bearer);
    assert.equal(revoked.status, 401);
    await revoked.body?.cancel();
    assert.deepEqual((await call(t, "x:ApiKey/get", {}, user)).list, []);
  }));

Deno.test("a user creates, lists and destroys their own app password, which logs in with Basic", () =>
  withUser(async (t, user) => {
    const created = await create(t, "x:AppPassword", { description: "phone" }, user);
    const secret = created.secret as string;
    assert.match(secret, /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    assert.equal(created.accountId, user.id);

    const appLogin = basic(user.emailAddress, secret);
    assert.equal((await session(t, appLogin)).status, 200);

    const get = await call(t, "x:AppPassword/get", {}, user);
    assert.deepEqual((get.list as Obj[]).map((p) => p.id), [created.id]);
    assert.equal(JSON.stringify(get).includes(secret), false);
    const query = await call(t, "x:AppPassword/query", {}, user);
    assert.deepEqual(query.ids, [created.id]);

    const destroyed = await set(t, "x:AppPassword", { destroy: [created.id] }, user);
    assert.deepEqual(destroyed.destroyed, [created.id]);
    const revoked = await session(t, appLogin);
    assert.equal(revoked.status, 401);
    await revoked.body?.cancel();
  }));

Deno.test("a user cannot see or destroy the admin's keys", () =>
  withUser(async (t, user) => {
    const adminKey = await create(t, "x:ApiKey", { description: "admin key" });
    const mine = await create(t, "x:ApiKey", { description: "mine" }, user);
    const get = await call(t, "x:ApiKey/get", { ids: [adminKey.id, mine.id] }, user);
    assert.deepEqual((get.list as Obj[]).map((k) => k.id), [mine.id]);
    assert.deepEqual(get.notFound, [adminKey.id]);
    const all = await call(t, "x:ApiKey/get", {}, user);
    assert.deepEqual((all.list as Obj[]).map((k) => k.id), [mine.id]);
    const destroy = await set(t, "x:ApiKey", { destroy: [adminKey.id] }, user);
    assert.equal((destroy.notDestroyed as SetErrors)[adminKey.id as string].type, "notFound");
    const stillThere = await call(t, "x:ApiKey/get", { ids: [adminKey.id] });
    assert.equal((stillThere.list as Obj[]).length, 1);
  }));

Deno.test("a user cannot read another account: forbidden, not a 401", () =>
  withUser(async (t, user) => {
    const error = await callError(t, "x:Account/get", { accountId: user.id, ids: [user.id, "b"] }, user);
    assert.equal(error.type, "forbidden");
    const other = await callError(t, "x:Account/get", { accountId: "b" }, user);
    assert.equal(other.type, "accountNotFound");
  }));

Deno.test("a user cannot create an API key or app password for someone else", () =>
  withUser(async (t, user) => {
    for (const type of ["x:ApiKey", "x:AppPassword"]) {
      const error = await notCreated(t, type, { description: "for the admin", accountId: "b" }, user);
      assert.equal(error.type, "forbidden", type);
    }
    const keys = await call(t, "x:ApiKey/get", {});
    assert.deepEqual(keys.list, [], "the admin has no key");
  }));

Deno.test("a user cannot change their roles, name, quotas, enabled flag or groups", () =>
  withUser(async (t, user) => {
    const group = await create(t, "x:Account", { "@type": "Group", name: "staff", domainId: "b" });
    const patches: [string, Obj][] = [
      ["roles", { roles: ["admin"] }],
      ["roles", { "roles/0": "admin" }],
      ["name", { name: "root" }],
      ["quotas", { quotas: { maxApiKeys: 10_000 } }],
      ["quotas", { "quotas/maxDiskQuota": 1 }],
      ["enabled", { enabled: false }],
      ["memberGroupIds", { memberGroupIds: [group.id] }],
      ["aliases", { aliases: ["boss@example.org"] }],
    ];
    for (const [property, patch] of patches) {
      const error = await notUpdated(t, "x:Account", user.id, patch, user);
      assert.equal(error.type, "forbidden", JSON.stringify(patch));
      assert.ok((error.description as string).includes(`"${property}"`), error.description as string);
    }
    const me = await call(t, "x:Account/get", { ids: [user.id] }, user);
    const account = (me.list as Obj[])[0];
    assert.deepEqual(
      [account.name, account.roles, account.quotas, account.enabled, account.memberGroupIds, account.aliases],
      ["alice", { "0": "user" }, {}, true, {}, {}],
    );
  }));

Deno.test("a user cannot change, create or delete accounts and domains", () =>
  withUser(async (t, user) => {
    const result = await jmap(t, [
      // Update and destroy in separate calls: in one /set an update of an object being destroyed is
      // skipped as willDestroy (RFC 8620 §5.3) before permissions are looked at.
      ["x:Account/set", {
        accountId: user.id,
        create: { u: { name: "mallory", domainId: "b" } },
        update: { b: { description: "hacked" } },
      }, "a"],
      ["x:Account/set", { accountId: user.id, destroy: ["b"] }, "a2"],
      ["x:Domain/set", {
        accountId: user.id,
        create: { d: { name: "evil.example" } },
        update: { b: { description: "hacked" } },
      }, "d"],
      ["x:Domain/set", { accountId: user.id, destroy: ["b"] }, "d2"],
      [
        "x:Domain/set",
        { accountId: user.id, update: { b: { description: "hacked" } }, destroy: ["b"] },
        "d3",
      ],
    ], { auth: user.auth });
    const [account, accountDestroy, domain, domainDestroy, both] = result.methodResponses.map(([, args]) =>
      args
    );
    for (const args of [account, domain]) {
      const [createError] = Object.values(args.notCreated as SetErrors);
      assert.equal(createError.type, "forbidden");
      assert.equal((args.notUpdated as SetErrors).b.type, "forbidden");
      assert.equal(args.created, null);
      assert.equal(args.updated, null);
    }
    for (const args of [accountDestroy, domainDestroy, both]) {
      assert.equal((args.notDestroyed as SetErrors).b.type, "forbidden");
      assert.equal(args.destroyed, null);
    }
    assert.equal((both.notUpdated as SetErrors).b.type, "willDestroy");
    const accounts = await call(t, "x:Account/get", { properties: ["name", "description"] });
    assert.deepEqual(accounts.list, [
      { id: "b", name: "admin", description: "Administrator" },
      { id: user.id, name: "alice", description: null },
    ]);
    const domains = await call(t, "x:Domain/get", { properties: ["name", "description"] });
    assert.deepEqual(domains.list, [{ id: "b", name: "example.org", description: "Created on first start" }]);
  }));

Deno.test("a user cannot read or change the x:Cache and x:Authentication settings", () =>
  withUser(async (t, user) => {
    const patches: [string, Obj][] = [
      ["x:Cache", { ttlSeconds: 1 }],
      ["x:Authentication", { minPasswordLength: 1 }],
    ];
    for (const [type, patch] of patches) {
      const all = await callError(t, `${type}/get`, { accountId: user.id }, user);
      assert.equal(all.type, "forbidden", type);
      const one = await callError(t, `${type}/get`, { accountId: user.id, ids: ["singleton"] }, user);
      assert.equal(one.type, "forbidden", type);
      const change = await notUpdated(t, type, "singleton", patch, user);
      assert.equal(change.type, "forbidden", type);
    }
    const cache = await call(t, "x:Cache/get", {});
    assert.equal((cache.list as Obj[])[0].ttlSeconds, 1800);
    const authentication = await call(t, "x:Authentication/get", {});
    assert.equal((authentication.list as Obj[])[0].minPasswordLength, 8);
  }));

Deno.test("an API key created through JMAP by the admin authenticates as the admin", () =>
  withApp(async (t) => {
    const key = await create(t, "x:ApiKey", { description: "ops" });
    const response = await session(t, `Bearer ${key.secret}`);
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.username, "admin@example.org");
    const viaKey = await call(t, "x:Domain/get", { ids: ["b"] }, { auth: `Bearer ${key.secret}` });
    assert.equal((viaKey.list as Obj[])[0].name, "example.org");
  }));

Deno.test("a user's /changes lists only objects the user can read", {
  // Was a bug: src/jmap/standard/methods.ts changes() reads the directory-wide change log
  // (deps.changes.since(type.changeType, null, …)) and returns every id in it, whoever may read it: a
  // plain user's x:ApiKey/changes lists the admin's new API key and x:Account/changes lists every
  // account, although x:ApiKey/get reports those ids as notFound and x:Account/get as forbidden.
}, () =>
  withUser(async (t, user) => {
    const adminKey = await create(t, "x:ApiKey", { description: "admin key" });
    const bob = await create(t, "x:Account", { name: "bob", domainId: "b" });
    const keys = await call(t, "x:ApiKey/changes", { sinceState: "0" }, user);
    assert.equal((keys.created as string[]).includes(adminKey.id as string), false);
    const accounts = await call(t, "x:Account/changes", { sinceState: "0" }, user);
    assert.deepEqual(accounts.created, [user.id]);
    assert.equal((accounts.created as string[]).includes(bob.id as string), false);
  }));
