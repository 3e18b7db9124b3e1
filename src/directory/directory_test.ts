/**
 * The directory as every surface uses it: accounts, addresses, groups, domains, passwords, app
 * passwords and API keys, through the services wired by `openServices` on a temporary database.
 */
import assert from "node:assert/strict";
import { argon2id } from "hash-wasm";
import {
  AuthError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  QuotaError,
} from "../model/errors.ts";
import { encodeId } from "../model/ids.ts";
import type { Principal } from "../model/types.ts";
import { openServices, type Services } from "../services.ts";
import { basic, PASSWORD } from "../../test/helpers.ts";

const CLIENT = "127.0.0.1";

interface Directory {
  services: Services;
  dataDir: string;
  /** Id of the domain example.org. */
  domainId: number;
  /** Creates a user in example.org (or `domainId`) with PASSWORD unless told otherwise. */
  user(
    name: string,
    extra?: { password?: string | null; aliases?: string[]; domainId?: number },
  ): Promise<number>;
  login(authorization: string): Promise<Principal>;
}

/** Runs `body` on services over a fresh database holding the domain example.org. */
async function withDirectory(body: (d: Directory) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-directory-" });
  const services = await openServices({
    databasePath: `${dataDir}/postern.db`,
    encryptionKey: crypto.getRandomValues(new Uint8Array(64)),
    hashWorkers: 1,
  });
  try {
    const domain = await services.domains.create({ name: "example.org" });
    await body({
      services,
      dataDir,
      domainId: domain.id,
      async user(name, extra = {}) {
        const account = await services.accounts.create({
          type: "User",
          name,
          domainId: extra.domainId ?? domain.id,
          password: extra.password === undefined ? PASSWORD : extra.password,
          aliases: extra.aliases,
        });
        return account.id;
      },
      login: (authorization) => services.authenticator.authenticate(authorization, CLIENT),
    });
  } finally {
    await services.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** Asserts that the header no longer authenticates. */
async function assertLoginFails(d: Directory, authorization: string, context = authorization): Promise<void> {
  await assert.rejects(() => d.login(authorization), (error: unknown) => {
    assert.ok(error instanceof AuthError, `${context}: ${error}`);
    assert.equal(error.reason, "invalid", context);
    return true;
  });
}

/** Asserts that `promise` rejects with `type` and a message containing every one of `parts`. */
async function assertRefused(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  ...parts: string[]
): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    for (const part of parts) assert.ok(error.message.includes(part), `"${part}" not in: ${error.message}`);
    return true;
  });
  return caught as Error;
}

/** Every byte of the database files (main file and write-ahead log). */
async function databaseBytes(dataDir: string): Promise<string> {
  let all = "";
  for await (const entry of Deno.readDir(dataDir)) {
    if (!entry.isFile) continue;
    all += new TextDecoder("latin1").decode(await Deno.readFile(`${dataDir}/${entry.name}`));
  }
  return all;
}

Deno.test("a user created with a password logs in by bare name and by address", async () => {
  await withDirectory(async (d) => {
    const id = await d.user("alice");
    const account = await d.services.accounts.require(id);
    assert.equal(account.primaryAddress, "alice@example.org");
    assert.deepEqual(account.roles, ["user"]);
    assert.equal(account.enabled, true);

    for (const login of ["alice", "alice@example.org", "ALICE@Example.ORG", " alice "]) {
      assert.equal(await d.services.accounts.idByLogin(login), id, login);
    }
    assert.equal(await d.services.accounts.idByLogin("bob"), undefined);
    assert.equal(await d.services.accounts.idByLogin("alice@other.org"), undefined);

    for (const login of ["alice", "alice@example.org"]) {
      const principal = await d.login(basic(login, PASSWORD));
      assert.equal(principal.accountId, id);
      assert.equal(principal.name, "alice");
      assert.equal(principal.method, "password");
    }
    await assertLoginFails(d, basic("alice", "not the password at all"));
  });
});

Deno.test("a bare name used in two domains is no login, but both addresses are", async () => {
  await withDirectory(async (d) => {
    const other = await d.services.domains.create({ name: "other.org" });
    const first = await d.user("alice");
    assert.equal(await d.services.accounts.idByLogin("alice"), first);
    const second = await d.user("alice", { domainId: other.id });
    assert.equal(await d.services.accounts.idByLogin("alice"), undefined);
    assert.equal(await d.services.accounts.idByLogin("alice@example.org"), first);
    assert.equal(await d.services.accounts.idByLogin("alice@other.org"), second);
    await assertLoginFails(d, basic("alice", PASSWORD));
    assert.equal((await d.login(basic("alice@other.org", PASSWORD))).accountId, second);
  });
});

Deno.test("renaming an account moves its primary address and its logins at once", async () => {
  await withDirectory(async (d) => {
    const id = await d.user("alice");
    await d.user("bob");
    // Warm the caches with the old names.
    assert.equal(await d.services.accounts.idByLogin("alice@example.org"), id);
    assert.equal((await d.login(basic("alice", PASSWORD))).accountId, id);

    const renamed = await d.services.accounts.update(id, { name: "alicia" });
    assert.equal(renamed.name, "alicia");
    assert.equal(renamed.primaryAddress, "alicia@example.org");
    assert.equal((await d.services.accounts.require(id)).primaryAddress, "alicia@example.org");
    assert.equal(await d.services.accounts.idByLogin("alicia@example.org"), id);
    assert.equal(await d.services.accounts.idByLogin("alicia"), id);
    assert.equal(await d.services.accounts.idByLogin("alice@example.org"), undefined);
    assert.equal(await d.services.accounts.idByLogin("alice"), undefined);
    assert.equal((await d.login(basic("alicia@example.org", PASSWORD))).accountId, id);

    // The old name is free again; a name someone else holds is not.
    assert.equal((await d.user("alice")) > id, true);
    await assertRefused(d.services.accounts.update(id, { name: "bob" }), ConflictError, '"bob@example.org"');
    assert.equal((await d.services.accounts.require(id)).name, "alicia");

    // Moving to another domain moves the primary address too.
    const other = await d.services.domains.create({ name: "other.org" });
    const moved = await d.services.accounts.update(id, { domainId: other.id });
    assert.equal(moved.primaryAddress, "alicia@other.org");
    assert.equal(await d.services.accounts.idByLogin("alicia@example.org"), undefined);
    assert.equal(await d.services.accounts.idByLogin("alicia@other.org"), id);
  });
});

Deno.test("an alias belongs to one account only; a taken address is refused quoting it", async () => {
  await withDirectory(async (d) => {
    const alice = await d.user("alice", { aliases: ["sales@example.org"] });
    assert.deepEqual((await d.services.accounts.require(alice)).aliases, ["sales@example.org"]);
    assert.equal(await d.services.accounts.idByLogin("sales@example.org"), alice);
    assert.equal((await d.login(basic("sales@example.org", PASSWORD))).accountId, alice);

    const before = await d.services.accounts.query({});
    await assertRefused(
      d.user("bob", { aliases: ["sales@example.org"] }),
      ConflictError,
      '"sales@example.org"',
    );
    await assertRefused(d.user("sales"), ConflictError, '"sales@example.org"');
    await assertRefused(
      d.user("bob", { aliases: ["alice@example.org"] }),
      ConflictError,
      '"alice@example.org"',
    );
    assert.deepEqual(await d.services.accounts.query({}), before);

    const bob = await d.user("bob");
    const error = await assertRefused(
      d.services.accounts.update(bob, { aliases: ["sales@example.org"] }),
      ConflictError,
      '"sales@example.org"',
      'account "bob"',
    );
    assert.equal((error as ConflictError).kind, "alreadyExists");
    assert.deepEqual((await d.services.accounts.require(bob)).aliases, []);
    assert.equal(await d.services.accounts.idByLogin("sales@example.org"), alice);

    // Once alice lets it go, bob can take it, and logins follow at once.
    await d.services.accounts.update(alice, { aliases: [] });
    await d.services.accounts.update(bob, { aliases: ["sales@example.org"] });
    assert.equal(await d.services.accounts.idByLogin("sales@example.org"), bob);
    assert.equal((await d.login(basic("sales@example.org", PASSWORD))).accountId, bob);
  });
});

Deno.test("an alias in a domain that does not exist is refused naming it", async () => {
  await withDirectory(async (d) => {
    const error = await assertRefused(
      d.user("alice", { aliases: ["alice@nowhere.test"] }),
      InvalidInputError,
      '"alice@nowhere.test"',
    );
    const problems = (error as InvalidInputError).problems;
    assert.equal(problems.length, 1);
    assert.equal(problems[0].property, "aliases");
    assert.ok(problems[0].message.includes('"nowhere.test"'), problems[0].message);
    assert.deepEqual(await d.services.accounts.query({}), []);
    assert.equal(await d.services.accounts.idByLogin("alice"), undefined);
  });
});

Deno.test("an account joins groups; only an existing group can be joined", async () => {
  await withDirectory(async (d) => {
    const staff = await d.services.accounts.create({ type: "Group", name: "staff", domainId: d.domainId });
    const admins = await d.services.accounts.create({ type: "Group", name: "admins", domainId: d.domainId });
    assert.equal(staff.type, "Group");
    assert.deepEqual(staff.roles, []);
    const alice = await d.services.accounts.create({
      type: "User",
      name: "alice",
      domainId: d.domainId,
      memberGroupIds: [staff.id, admins.id, staff.id],
    });
    assert.deepEqual([...alice.memberGroupIds].sort(), [staff.id, admins.id].sort());
    assert.deepEqual(await d.services.accounts.query({ memberOf: staff.id }), [alice.id]);

    const left = await d.services.accounts.update(alice.id, { memberGroupIds: [admins.id] });
    assert.deepEqual(left.memberGroupIds, [admins.id]);
    assert.deepEqual(await d.services.accounts.query({ memberOf: staff.id }), []);

    const bob = await d.user("bob", { password: null });
    for (const [groupIds, bad] of [[[bob], bob], [[alice.id], alice.id], [[999], 999]] as const) {
      const error = await assertRefused(
        d.services.accounts.update(bob, { memberGroupIds: [...groupIds] }),
        InvalidInputError,
        `${bad} is not a group`,
      );
      assert.equal((error as InvalidInputError).problems[0].property, "memberGroupIds");
    }
    await assertRefused(
      d.services.accounts.create({
        type: "User",
        name: "carol",
        domainId: d.domainId,
        memberGroupIds: [bob],
      }),
      InvalidInputError,
      "is not a group",
    );
    assert.equal(await d.services.accounts.idByLogin("carol"), undefined);
    // A group cannot be a member of itself.
    await assertRefused(
      d.services.accounts.update(staff.id, { memberGroupIds: [staff.id] }),
      InvalidInputError,
      "is not a group",
    );
  });
});

Deno.test("a group has no password and cannot log in", async () => {
  await withDirectory(async (d) => {
    const error = await assertRefused(
      d.services.accounts.create({ type: "Group", name: "staff", domainId: d.domainId, password: PASSWORD }),
      InvalidInputError,
      'group "staff"',
    );
    assert.equal((error as InvalidInputError).problems[0].property, "credentials");
    await d.services.accounts.create({ type: "Group", name: "staff", domainId: d.domainId });
    await assertLoginFails(d, basic("staff", PASSWORD));
    const groupId = (await d.services.accounts.idByLogin("staff"))!;
    await assertRefused(
      d.services.accessKeys.create("ApiKey", groupId, { description: "for a group" }),
      ForbiddenError,
      'group "staff"',
    );
  });
});

Deno.test("a domain still used by accounts or aliases cannot be deleted; the error names them", async () => {
  await withDirectory(async (d) => {
    const other = await d.services.domains.create({ name: "other.org" });
    const carol = await d.user("carol", { domainId: other.id });
    const alice = await d.user("alice", { aliases: ["a@other.org"] });

    const error = await assertRefused(
      d.services.domains.delete(other.id),
      ConflictError,
      'domain "other.org"',
      "carol@other.org",
      "a@other.org",
    );
    assert.equal((error as ConflictError).kind, "inUse");
    assert.deepEqual([...(error as ConflictError).references].sort(), ["a@other.org", "carol@other.org"]);
    assert.deepEqual((await d.services.domains.list()).map((x) => x.name), ["example.org", "other.org"]);
    assert.equal(await d.services.accounts.idByLogin("carol@other.org"), carol);

    // Only the alias left: still refused, naming only the alias.
    await d.services.accounts.delete(carol);
    const aliasOnly = await assertRefused(d.services.domains.delete(other.id), ConflictError, "a@other.org");
    assert.ok(!aliasOnly.message.includes("carol"), aliasOnly.message);

    await d.services.accounts.update(alice, { aliases: [] });
    await d.services.domains.delete(other.id);
    assert.deepEqual((await d.services.domains.list()).map((x) => x.name), ["example.org"]);
    await assertRefused(d.services.domains.delete(other.id), NotFoundError, encodeId(other.id));
  });
});

Deno.test("deleting an account removes its addresses, credentials, memberships and grants", async () => {
  await withDirectory(async (d) => {
    const staff = await d.services.accounts.create({ type: "Group", name: "staff", domainId: d.domainId });
    const alice = await d.services.accounts.create({
      type: "User",
      name: "alice",
      domainId: d.domainId,
      password: PASSWORD,
      aliases: ["sales@example.org"],
      memberGroupIds: [staff.id],
    });
    const bob = await d.user("bob");
    const app = await d.services.accessKeys.create("AppPassword", alice.id, { description: "Phone" });
    const key = await d.services.accessKeys.create("ApiKey", alice.id, { description: "Backup script" });
    await d.services.grants.grant({
      granteeId: alice.id,
      ownerId: bob,
      objectType: "Mailbox",
      objectId: null,
      rights: 1,
    });
    await d.services.grants.grant({
      granteeId: bob,
      ownerId: alice.id,
      objectType: "Mailbox",
      objectId: null,
      rights: 3,
    });
    assert.equal((await d.login(`Bearer ${key.secret}`)).accountId, alice.id);
    assert.equal((await d.login(basic("sales@example.org", app.secret))).accountId, alice.id);

    const { account, removed } = await d.services.accounts.delete(alice.id);
    assert.equal(account.name, "alice");
    assert.deepEqual(removed, {
      addresses: 2,
      credentials: 3,
      groupMemberships: 1,
      grants: 2,
      mailboxes: 6,
      messages: 0,
      oauthGrants: 0,
    });

    assert.equal(await d.services.accounts.get(alice.id), undefined);
    for (const login of ["alice", "alice@example.org", "sales@example.org"]) {
      assert.equal(await d.services.accounts.idByLogin(login), undefined, login);
    }
    assert.deepEqual(await d.services.accessKeys.list("AppPassword", alice.id), []);
    assert.deepEqual(await d.services.accessKeys.list("ApiKey", alice.id), []);
    assert.deepEqual(await d.services.accounts.query({ memberOf: staff.id }), []);
    assert.deepEqual(await d.services.grants.heldBy(bob), []);
    assert.deepEqual(await d.services.grants.givenBy(bob), []);
    assert.deepEqual(await d.services.grants.heldBy(alice.id), []);
    await assertLoginFails(d, `Bearer ${key.secret}`);
    await assertLoginFails(d, basic("alice", PASSWORD));
    assert.equal((await d.services.store.integrity.check()).ok, true);

    // The freed addresses can be given to someone else; a second delete finds nothing.
    await d.services.accounts.update(bob, { aliases: ["sales@example.org"] });
    assert.equal(await d.services.accounts.idByLogin("sales@example.org"), bob);
    await assertRefused(d.services.accounts.delete(alice.id), NotFoundError, `"${encodeId(alice.id)}"`);
    assert.ok(await d.services.accounts.get(staff.id), "the group itself stays");
  });
});

Deno.test("ids of deleted accounts, domains and keys are never given out again", async () => {
  await withDirectory(async (d) => {
    const first = await d.user("first", { password: null });
    const last = await d.user("last", { password: null });
    await d.services.accounts.delete(last);
    const next = await d.user("next", { password: null });
    assert.ok(next > last, `new account got id ${next}, deleted one had ${last}`);
    assert.notEqual(encodeId(next), encodeId(last));
    assert.equal(await d.services.accounts.get(last), undefined);
    assert.ok(first < last);

    const domain = await d.services.domains.create({ name: "gone.org" });
    await d.services.domains.delete(domain.id);
    const again = await d.services.domains.create({ name: "gone.org" });
    assert.ok(again.id > domain.id, `new domain got id ${again.id}, deleted one had ${domain.id}`);

    const key = await d.services.accessKeys.create("ApiKey", first, { description: "one" });
    await d.services.accessKeys.delete("ApiKey", key.credential.id);
    const other = await d.services.accessKeys.create("ApiKey", first, { description: "two" });
    assert.ok(other.credential.id > key.credential.id);
  });
});

Deno.test("a weak password is refused as too weak and nothing is created or changed", async () => {
  await withDirectory(async (d) => {
    for (const weak of ["short", "1234567", "password123", "Passw0rd", "aaaaaaaaaaaa", "abababababab"]) {
      const error = await assertRefused(d.user("alice", { password: weak }), InvalidInputError, "too weak");
      assert.equal((error as InvalidInputError).problems[0].property, "credentials", weak);
      assert.ok(error.message.includes('"alice"'), error.message);
    }
    assert.deepEqual(await d.services.accounts.query({}), []);

    const id = await d.user("alice");
    await assertRefused(d.services.accounts.update(id, { password: "short" }), InvalidInputError, "too weak");
    assert.equal((await d.login(basic("alice", PASSWORD))).accountId, id);
  });
});

Deno.test("an Argon2id PHC string is stored as given and the password it hashes logs in", async () => {
  await withDirectory(async (d) => {
    const imported = "password from the old server";
    const phc = await argon2id({
      password: imported,
      salt: crypto.getRandomValues(new Uint8Array(16)),
      parallelism: 1,
      iterations: 1,
      memorySize: 1024,
      hashLength: 32,
      outputType: "encoded",
    });
    const id = await d.user("dave", { password: phc });
    assert.equal(await d.services.accounts.passwordHash(id), phc);
    const principal = await d.login(basic("dave@example.org", imported));
    assert.equal(principal.accountId, id);
    assert.equal(principal.method, "password");
    await assertLoginFails(d, basic("dave", phc), "the hash itself is not the password");

    const unusable = [phc.replace("m=1024", "m=99999999"), phc.replace(/\$[^$]+\$([^$]+)$/, "$AA$$$1")];
    for (
      const malformed of [
        "$argon2id$v=19$m=1024$abc$def",
        phc.replace("v=19", "v=16"),
        `${phc}$more`,
        ...unusable,
      ]
    ) {
      const error = await assertRefused(
        d.user("erin", { password: malformed }),
        InvalidInputError,
        "Argon2id",
      );
      assert.equal((error as InvalidInputError).problems[0].property, "credentials");
    }
    assert.equal(await d.services.accounts.idByLogin("erin"), undefined);
  });
});

Deno.test("an app password is shown once, stored hashed and logs in with Basic until deleted", async () => {
  await withDirectory(async (d) => {
    const alice = await d.user("alice");
    await d.user("bob");
    const created = await d.services.objects.create(
      "app-password",
      { accountId: encodeId(alice), description: "Phone mail client" },
      "system",
    );
    const secret = created.secret as string;
    assert.equal(typeof secret, "string");
    assert.ok(secret.length >= 20, secret);
    assert.equal(created.accountId, encodeId(alice));

    const id = created.id as string;
    const read = await d.services.objects.get("app-password", id, "system");
    assert.ok(!("secret" in read), JSON.stringify(read));
    for (const listed of await d.services.objects.list("app-password", "system")) {
      assert.ok(!("secret" in listed), JSON.stringify(listed));
    }
    const bytes = await databaseBytes(d.dataDir);
    assert.ok(bytes.includes("Phone mail client"), "the scan sees the stored row");
    assert.ok(!bytes.includes(secret), "the secret is in the database in clear");

    for (const login of ["alice", "alice@example.org"]) {
      const principal = await d.login(basic(login, secret));
      assert.equal(principal.accountId, alice);
      assert.equal(principal.method, "appPassword");
    }
    await assertLoginFails(d, basic("bob", secret), "another account's app password");

    await d.services.objects.delete("app-password", id, "system");
    await assertLoginFails(d, basic("alice", secret), "deleted app password");
    assert.equal((await d.login(basic("alice", PASSWORD))).method, "password");
  });
});

Deno.test("an API key is shown once, stored hashed and works as a Bearer token until deleted", async () => {
  await withDirectory(async (d) => {
    const alice = await d.user("alice");
    const created = await d.services.objects.create(
      "api-key",
      { accountId: encodeId(alice), description: "Nightly backup" },
      "system",
    );
    const secret = created.secret as string;
    assert.match(secret, /^pst_[a-z0-9]{32}$/);
    const read = await d.services.objects.get("api-key", created.id as string, "system");
    assert.ok(!("secret" in read), JSON.stringify(read));
    const bytes = await databaseBytes(d.dataDir);
    assert.ok(bytes.includes("Nightly backup"), "the scan sees the stored row");
    assert.ok(!bytes.includes(secret), "the secret is in the database in clear");
    assert.ok(!bytes.includes(secret.slice(4)), "the secret without its prefix is in the database");

    const principal = await d.login(`Bearer ${secret}`);
    assert.equal(principal.accountId, alice);
    assert.equal(principal.method, "apiKey");
    // A second use is answered from the verified-header cache; deleting must still end it.
    assert.equal((await d.login(`Bearer ${secret}`)).accountId, alice);
    await assertLoginFails(d, basic("alice", secret), "an API key is no password");

    await d.services.objects.delete("api-key", created.id as string, "system");
    await assertLoginFails(d, `Bearer ${secret}`, "deleted API key");
    await assertRefused(
      d.services.objects.get("api-key", created.id as string, "system"),
      NotFoundError,
      `"${created.id}"`,
    );
  });
});

Deno.test("a key past its expiry time no longer logs in", async () => {
  await withDirectory(async (d) => {
    const alice = await d.user("alice");
    const lifetime = 500;
    const key = await d.services.accessKeys.create("ApiKey", alice, {
      description: "short-lived",
      expiresAt: Date.now() + lifetime,
    });
    const app = await d.services.accessKeys.create("AppPassword", alice, {
      description: "short-lived",
      expiresAt: Date.now() + lifetime,
    });
    assert.equal((await d.login(`Bearer ${key.secret}`)).accountId, alice);
    await new Promise((resolve) => setTimeout(resolve, lifetime + 100));
    await assertLoginFails(d, `Bearer ${key.secret}`, "expired API key");
    await assertLoginFails(d, basic("alice", app.secret), "expired app password");

    await assertRefused(
      d.services.objects.create(
        "api-key",
        { accountId: encodeId(alice), description: "already over", expiresAt: "2001-01-01T00:00:00Z" },
        "system",
      ),
      InvalidInputError,
      "expiresAt",
    );
  });
});

Deno.test("an account cannot hold more keys than its quota allows", async () => {
  await withDirectory(async (d) => {
    const alice = await d.services.accounts.create({
      type: "User",
      name: "alice",
      domainId: d.domainId,
      quotas: { maxApiKeys: 1 },
    });
    await d.services.accessKeys.create("ApiKey", alice.id, { description: "the one" });
    await assertRefused(
      d.services.accessKeys.create("ApiKey", alice.id, { description: "one too many" }),
      QuotaError,
      "maxApiKeys",
    );
    assert.equal((await d.services.accessKeys.list("ApiKey", alice.id)).length, 1);
  });
});

Deno.test("an alias equal to the account's own address is refused in words, not a storage error", async () => {
  await withDirectory(async (d) => {
    await assertRefused(
      d.user("bob", { aliases: ["bob@example.org"] }),
      InvalidInputError,
      "primary address",
    );
    const alice = await d.user("alice", { aliases: ["al@example.org"] });
    await assertRefused(
      d.services.accounts.update(alice, { aliases: ["alice@example.org"] }),
      InvalidInputError,
      "primary address",
    );
    assert.deepEqual((await d.services.accounts.require(alice)).aliases, ["al@example.org"]);
  });
});

Deno.test("renaming an account onto one of its own aliases promotes that alias", async () => {
  await withDirectory(async (d) => {
    const alice = await d.user("alice", { aliases: ["al@example.org", "ally@example.org"] });
    const renamed = await d.services.accounts.update(alice, { name: "al" });
    assert.equal(renamed.primaryAddress, "al@example.org");
    assert.deepEqual(renamed.aliases, ["ally@example.org"]);
    assert.equal((await d.login(basic("al@example.org", PASSWORD))).accountId, alice);
    await assertLoginFails(d, basic("alice@example.org", PASSWORD), "the old name is gone");
  });
});

Deno.test("renaming an account while keeping its old address as an alias swaps them", async () => {
  await withDirectory(async (d) => {
    const alice = await d.user("alice");
    const renamed = await d.services.accounts.update(alice, { name: "al", aliases: ["alice@example.org"] });
    assert.equal(renamed.primaryAddress, "al@example.org");
    assert.deepEqual(renamed.aliases, ["alice@example.org"]);
    assert.equal((await d.login(basic("alice@example.org", PASSWORD))).accountId, alice);
  });
});

Deno.test("writing back an account exactly as read changes nothing, the masked password included", async () => {
  await withDirectory(async (d) => {
    const id = await d.user("wendy");
    const read = await d.services.objects.get("account", encodeId(id), "system");
    assert.deepEqual((read.credentials as Record<string, { secret: string }>)["0"].secret, "********");
    const { id: _, ...writable } = read;
    const written = await d.services.objects.update("account", encodeId(id), {
      ...writable,
      description: "W",
    }, "system");
    assert.equal(written.description, "W");
    assert.equal((await d.login(basic("wendy@example.org", PASSWORD))).accountId, id, "password kept");
  });
});
