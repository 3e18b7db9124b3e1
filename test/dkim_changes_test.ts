/**
 * x:DkimKey/changes, as the other management types' /changes: a new domain's keys are created,
 * RotateDkimKeys creates the new pair and updates the retired one, destroying a retired key and
 * deleting the domain destroy them, and a rename updates them (their DNS name moves). Bad input:
 * a non-administrator is refused (forbidden) and an unknown state cannot be calculated.
 */
import assert from "node:assert/strict";
import type { TestApp } from "./helpers.ts";
import { ADMIN, call, callError, create, set, withApp } from "./jmap_helpers.ts";
import { createUsers, type Obj } from "./mail_helpers.ts";

const keysOf = async (t: TestApp, domain: string) =>
  ((await call(t, "x:DkimKey/get", { ids: null })).list as Obj[]).filter((k) => k.domainName === domain);

const sorted = (ids: unknown) => (ids as string[]).slice().sort();

Deno.test("x:DkimKey/changes follows creation, rotation, destruction, renames and domain deletion", async () => {
  await withApp(async (t) => {
    const changesSince = async (sinceState: string) => await call(t, "x:DkimKey/changes", { sinceState });
    const start = String((await call(t, "x:DkimKey/get", { ids: [] })).state);

    const domain = await create(t, "x:Domain", { name: "keys.example" });
    const first = await keysOf(t, "keys.example");
    assert.equal(first.length, 2);
    const made = await changesSince(start);
    assert.deepEqual(sorted(made.created), sorted(first.map((k) => k.id)));
    assert.deepEqual([made.updated, made.destroyed], [[], []]);
    const afterCreate = String(made.newState);
    assert.notEqual(afterCreate, start);
    assert.equal(
      String((await call(t, "x:DkimKey/get", { ids: [] })).state),
      afterCreate,
      "/get tells the same state",
    );

    const rotated = await set(t, "x:Action", {
      create: { a: { "@type": "RotateDkimKeys", domain: "keys.example" } },
    });
    assert.ok((rotated.created as Obj).a, JSON.stringify(rotated));
    const second = (await keysOf(t, "keys.example")).filter((k) => k.active);
    const rotation = await changesSince(afterCreate);
    assert.deepEqual(sorted(rotation.created), sorted(second.map((k) => k.id)));
    assert.deepEqual(sorted(rotation.updated), sorted(first.map((k) => k.id)), "the old pair is retired");
    const afterRotate = String(rotation.newState);

    const destroyed = await set(t, "x:DkimKey", { destroy: [first[0].id] });
    assert.deepEqual(destroyed.destroyed, [first[0].id], JSON.stringify(destroyed));
    const removal = await changesSince(afterRotate);
    assert.deepEqual([removal.created, removal.updated, removal.destroyed], [[], [], [first[0].id]]);
    const afterDestroy = String(removal.newState);

    await set(t, "x:Domain", { update: { [String(domain.id)]: { name: "moved.example" } } });
    const rename = await changesSince(afterDestroy);
    assert.deepEqual(sorted(rename.updated), sorted([first[1].id, ...second.map((k) => k.id)]));
    const afterRename = String(rename.newState);

    await set(t, "x:Domain", { destroy: [domain.id] });
    const gone = await changesSince(afterRename);
    assert.deepEqual(sorted(gone.destroyed), sorted([first[1].id, ...second.map((k) => k.id)]));
    assert.deepEqual(await keysOf(t, "moved.example"), []);
  });
});

Deno.test("x:DkimKey/changes refuses non-administrators and a state it never gave", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const refused = await callError(t, "x:DkimKey/changes", { accountId: alice.accountId, sinceState: "0" }, {
      auth: alice.auth,
    });
    assert.equal(refused.type, "forbidden");
    const unknown = await callError(t, "x:DkimKey/changes", { accountId: "b", sinceState: "999999" }, {
      auth: ADMIN,
    });
    assert.equal(unknown.type, "cannotCalculateChanges");
    const malformed = await callError(t, "x:DkimKey/changes", { accountId: "b", sinceState: "not a state" }, {
      auth: ADMIN,
    });
    assert.equal(malformed.type, "cannotCalculateChanges");
  });
});
