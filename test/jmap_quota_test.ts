import assert from "node:assert/strict";
import { CORE, jmap, MAIL, MANAGEMENT, QUOTA, withApp } from "./jmap_helpers.ts";

const USING = [CORE, MAIL, QUOTA, MANAGEMENT];

/** One call with the mail and quota capabilities on the admin's account "b". */
async function call(
  t: Parameters<Parameters<typeof withApp>[0]>[0],
  name: string,
  args: Record<string, unknown>,
) {
  const { methodResponses } = await jmap(t, [[name, { accountId: "b", ...args }, "c"]], { using: USING });
  return methodResponses[0];
}

Deno.test("an account's limits are Quota objects with what is used, and none without limits", () =>
  withApp(async (t) => {
    const [, none] = await call(t, "Quota/get", { ids: null });
    assert.deepEqual(none.list, []);
    await call(t, "x:Account/set", { update: { b: { quotas: { maxMailboxes: 8, maxDiskQuota: 5000 } } } });
    const [name, got] = await call(t, "Quota/get", { ids: null });
    assert.equal(name, "Quota/get");
    const byId = Object.fromEntries((got.list as Record<string, unknown>[]).map((q) => [q.id, q]));
    assert.deepEqual(byId.mailboxes, {
      id: "mailboxes",
      resourceType: "count",
      used: 6,
      hardLimit: 8,
      scope: "account",
      name: "Mailboxes",
      types: ["Mailbox"],
      warnLimit: null,
      softLimit: null,
      description: "Number of mailboxes of the account",
    });
    assert.equal((byId.storage as Record<string, unknown>).resourceType, "octets");
    assert.equal((byId.storage as Record<string, unknown>).hardLimit, 5000);
    const [, query] = await call(t, "Quota/query", { filter: { resourceType: "count" } });
    assert.deepEqual(query.ids, ["mailboxes"]);
  }));

Deno.test("creating a mailbox moves the quota's state, and past the hard limit a write is overQuota", () =>
  withApp(async (t) => {
    await call(t, "x:Account/set", { update: { b: { quotas: { maxMailboxes: 7 } } } });
    const [, before] = await call(t, "Quota/get", { ids: ["mailboxes"] });
    const [, created] = await call(t, "Mailbox/set", { create: { a: { name: "Projects" } } });
    assert.ok((created.created as Record<string, unknown>).a);
    const [, changes] = await call(t, "Quota/changes", { sinceState: before.state });
    assert.deepEqual(changes.updated, ["mailboxes"]);
    assert.notEqual(changes.newState, before.state);
    const [, after] = await call(t, "Quota/get", { ids: ["mailboxes"] });
    assert.equal((after.list as Record<string, unknown>[])[0].used, 7);
    const [, refused] = await call(t, "Mailbox/set", { create: { b: { name: "One too many" } } });
    assert.equal((refused.notCreated as Record<string, Record<string, unknown>>).b.type, "overQuota");
    const [, unchanged] = await call(t, "Quota/changes", { sinceState: after.state });
    assert.deepEqual([unchanged.created, unchanged.updated, unchanged.destroyed], [[], [], []]);
  }));

Deno.test("Quota has no /set, and a state it never issued cannot be calculated from", () =>
  withApp(async (t) => {
    const [name, error] = await call(t, "Quota/set", { create: {} });
    assert.equal(name, "error");
    assert.equal(error.type, "unknownMethod");
    const [, bad] = await call(t, "Quota/changes", { sinceState: "not a state" });
    assert.equal(bad.type, "cannotCalculateChanges");
  }));

Deno.test("Mailbox/set accepts onDestroyRemoveEmails as a boolean and refuses any other value", () =>
  withApp(async (t) => {
    const [, created] = await call(t, "Mailbox/set", { create: { a: { name: "Old" } } });
    const id = String((created.created as Record<string, Record<string, unknown>>).a.id);
    const [name, wrong] = await call(t, "Mailbox/set", { destroy: [id], onDestroyRemoveEmails: "yes" });
    assert.equal(name, "error");
    assert.equal(wrong.type, "invalidArguments");
    const [, done] = await call(t, "Mailbox/set", { destroy: [id], onDestroyRemoveEmails: true });
    assert.deepEqual(done.destroyed, [id]);
  }));
