/**
 * App passwords are for mail clients: they read and send mail, but managing credentials (the
 * password, app passwords, API keys) or anything else needs the password, an API key, an
 * administrator or a token with the administration scope. A password change keeps app passwords
 * unless the change asks to revoke them.
 */
import assert from "node:assert/strict";
import { basic, type TestApp } from "./helpers.ts";
import {
  call,
  callError,
  CORE,
  create,
  createUser,
  jmap,
  MAIL,
  MANAGEMENT,
  notUpdated,
  set,
  withApp,
} from "./jmap_helpers.ts";

type Obj = Record<string, unknown>;

async function sessionStatus(t: TestApp, authorization: string): Promise<number> {
  const response = await t.fetch("/jmap/session", { headers: { authorization } });
  await response.body?.cancel();
  return response.status;
}

/** A new app password of `user`, made with the account's password. */
async function appPassword(t: TestApp, user: { auth: string; accountId: string; emailAddress: string }) {
  const created = await create(t, "x:AppPassword", { description: "phone" }, user);
  return basic(user.emailAddress, created.secret as string);
}

Deno.test("an app password reads mail but cannot change the password, mint keys or manage anything", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    const app = await appPassword(t, user);
    const mail = await jmap(t, [["Mailbox/get", { accountId: user.id, ids: null }, "c0"]], {
      auth: app,
      using: [CORE, MAIL],
    });
    assert.equal(mail.methodResponses[0][0], "Mailbox/get", JSON.stringify(mail.methodResponses[0]));

    const attempts: [string, Obj][] = [
      ["x:Account/set", {
        update: { [user.id]: { credentials: [{ "@type": "Password", secret: "the attacker's password" }] } },
      }],
      ["x:ApiKey/set", { create: { k: { description: "persistence" } } }],
      ["x:AppPassword/set", { create: { k: { description: "another" } } }],
      ["x:AppPassword/get", {}],
      ["x:Account/get", {}],
    ];
    for (const [name, args] of attempts) {
      const error = await callError(t, name, { accountId: user.id, ...args }, { auth: app });
      assert.equal(error.type, "forbidden", name);
      assert.match(String(error.description), /app password is for mail only/, name);
    }
    assert.equal(await sessionStatus(t, user.auth), 200, "the password is unchanged");
    assert.deepEqual((await call(t, "x:ApiKey/get", {}, user)).list, [], "no API key was made");
    assert.equal(((await call(t, "x:AppPassword/get", {}, user)).list as Obj[]).length, 1);

    // An administrator's app password is for mail only too.
    const admin = { auth: basic("admin@example.org", "admin password for tests"), accountId: "b" };
    const adminApp = await appPassword(t, { ...admin, emailAddress: "admin@example.org" });
    const error = await callError(t, "x:Account/set", {
      accountId: "b",
      create: { u: { "@type": "User", name: "mallory", domainId: "b" } },
    }, { auth: adminApp });
    assert.equal(error.type, "forbidden");
  }));

Deno.test("RFC 8620 §2: the session of an app password offers mail, not management it would be refused", () =>
  withApp(async (t) => {
    const user = await createUser(t, "dora");
    const app = await appPassword(t, user);
    const session = async (authorization: string) => {
      const response = await t.fetch("/jmap/session", { headers: { authorization } });
      assert.equal(response.status, 200);
      return await response.json() as {
        capabilities: Obj;
        accounts: Record<string, { accountCapabilities: Obj }>;
        primaryAccounts: Obj;
        state: string;
      };
    };
    const full = await session(user.auth);
    assert.ok(MANAGEMENT in full.capabilities, "the password itself may manage the account");
    const scoped = await session(app);
    assert.ok(!(MANAGEMENT in scoped.capabilities), JSON.stringify(scoped.capabilities));
    assert.ok(!(MANAGEMENT in scoped.primaryAccounts));
    assert.ok(!(MANAGEMENT in scoped.accounts[user.accountId].accountCapabilities));
    for (const kept of [CORE, MAIL, "urn:ietf:params:jmap:submission", "urn:ietf:params:jmap:principals"]) {
      assert.ok(kept in scoped.capabilities, kept);
    }
    assert.ok("urn:ietf:params:jmap:principals:owner" in scoped.accounts[user.accountId].accountCapabilities);
    assert.notEqual(scoped.state, full.state, "a different session has a different state");
  }));

Deno.test("a password change keeps app passwords unless it asks to revoke them", () =>
  withApp(async (t) => {
    const user = await createUser(t, "bob");
    const kept = await appPassword(t, user);
    const apiKey = await create(t, "x:ApiKey", { description: "backup" }, user);
    const second = "bob's second passphrase";
    const routine = await set(t, "x:Account", {
      update: { [user.id]: { credentials: [{ "@type": "Password", secret: second }] } },
    }, user);
    assert.equal(routine.notUpdated, null, JSON.stringify(routine.notUpdated));
    assert.equal(await sessionStatus(t, user.auth), 401, "the old password is gone");
    assert.equal(await sessionStatus(t, kept), 200, "a routine change keeps app passwords");

    const now = { ...user, auth: basic(user.emailAddress, second) };
    const later = await appPassword(t, now);
    const third = "bob's third passphrase";
    const revoking = await set(t, "x:Account", {
      update: {
        [user.id]: { credentials: [{ "@type": "Password", secret: third, revokeAppPasswords: true }] },
      },
    }, now);
    assert.equal(revoking.notUpdated, null, JSON.stringify(revoking.notUpdated));
    assert.equal(await sessionStatus(t, kept), 401);
    assert.equal(await sessionStatus(t, later), 401);
    const after = { ...user, auth: basic(user.emailAddress, third) };
    assert.equal(await sessionStatus(t, after.auth), 200);
    assert.deepEqual((await call(t, "x:AppPassword/get", {}, after)).list, []);
    // API keys are their own objects: revoked one by one, not by a password change.
    assert.equal(await sessionStatus(t, `Bearer ${apiKey.secret}`), 200);
  }));

Deno.test("revokeAppPasswords must be a boolean, and nobody revokes another account's app passwords", () =>
  withApp(async (t) => {
    const carol = await createUser(t, "carol");
    const dave = await createUser(t, "dave");
    const carolApp = await appPassword(t, carol);
    const bad = await notUpdated(t, "x:Account", carol.id, {
      credentials: [{ "@type": "Password", secret: "carol's new passphrase", revokeAppPasswords: "yes" }],
    }, carol);
    assert.equal(bad.type, "invalidProperties", JSON.stringify(bad));
    assert.equal(await sessionStatus(t, carol.auth), 200, "the bad update changed nothing");
    const foreign = await notUpdated(t, "x:Account", carol.id, {
      credentials: [{ "@type": "Password", secret: "dave's idea", revokeAppPasswords: true }],
    }, { auth: dave.auth, accountId: dave.id });
    assert.equal(foreign.type, "forbidden", JSON.stringify(foreign));
    assert.equal(await sessionStatus(t, carolApp), 200);
    assert.equal(await sessionStatus(t, carol.auth), 200);
  }));

Deno.test("an administrator's app password does not read /metrics from another address; the password does", () =>
  withApp(async (t) => {
    const admin = { auth: basic("admin@example.org", "admin password for tests"), accountId: "b" };
    const adminApp = await appPassword(t, { ...admin, emailAddress: "admin@example.org" });
    const remote = { client: "203.0.113.9" };
    const refused = await t.fetch("/metrics", { ...remote, headers: { authorization: adminApp } });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get("www-authenticate"), null, "a valid credential is never a 401");
    assert.match((await refused.json()).detail, /urn:postern:admin/);
    const allowed = await t.fetch("/metrics", { ...remote, headers: { authorization: admin.auth } });
    assert.equal(allowed.status, 200);
    await allowed.body?.cancel();
  }));
