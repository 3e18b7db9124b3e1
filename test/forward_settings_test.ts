/**
 * Forwarding settings on x:Account (forwardTo, forwardKeepCopy): a user sets its own, not another
 * account's; an administrator sets anyone's; malformed, too many and own addresses are
 * invalidProperties naming forwardTo.
 */
import assert from "node:assert/strict";
import { ADMIN } from "./jmap_helpers.ts";
import { managementCall } from "./live_connection_helpers.ts";
import { type Obj, withAliceAndBob } from "./mail_helpers.ts";

Deno.test("forwarding: set by the account itself or an administrator, checked for form, count and own addresses", async (t) => {
  await withAliceAndBob(async (app, alice, bob) => {
    const setAccount = (auth: string, accountId: string, target: string, update: Obj) =>
      managementCall(app, auth, "x:Account/set", { accountId, update: { [target]: update } });
    const get = async (target: string) => {
      const { list } = await managementCall(app, ADMIN, "x:Account/get", { accountId: "b", ids: [target] });
      return (list as Obj[])[0];
    };

    await t.step("alice sets her own forwarding", async () => {
      const set = await setAccount(alice.auth, alice.accountId, alice.accountId, {
        forwardTo: ["Alice@Elsewhere.test"],
        forwardKeepCopy: false,
      });
      assert.equal(set.notUpdated, null, JSON.stringify(set));
      const account = await get(alice.accountId);
      assert.deepEqual(account.forwardTo, { "0": "alice@elsewhere.test" });
      assert.equal(account.forwardKeepCopy, false);
    });

    await t.step("alice cannot set bob's forwarding; an administrator can", async () => {
      const refused = await setAccount(alice.auth, alice.accountId, bob.accountId, {
        forwardTo: ["thief@elsewhere.test"],
      });
      const error = (refused.notUpdated as Obj)[bob.accountId] as Obj;
      assert.equal(error.type, "forbidden", JSON.stringify(refused));
      assert.deepEqual((await get(bob.accountId)).forwardTo, {});
      const set = await setAccount(ADMIN, "b", bob.accountId, { forwardTo: ["bob@elsewhere.test"] });
      assert.equal(set.notUpdated, null, JSON.stringify(set));
      assert.deepEqual((await get(bob.accountId)).forwardTo, { "0": "bob@elsewhere.test" });
    });

    await t.step("bad input is invalidProperties on forwardTo with a description", async () => {
      const cases: [unknown, RegExp][] = [
        [["not an address"], /not an email address/],
        [Array.from({ length: 11 }, (_, i) => `r${i}@elsewhere.test`), /at most 10/],
        [["alice@example.org"], /one of the account's own addresses/],
      ];
      for (const [forwardTo, description] of cases) {
        const bad = await setAccount(alice.auth, alice.accountId, alice.accountId, { forwardTo });
        const error = (bad.notUpdated as Obj)?.[alice.accountId] as Obj;
        assert.equal(error?.type, "invalidProperties", JSON.stringify(bad));
        assert.deepEqual(error.properties, ["forwardTo"]);
        assert.match(String(error.description), description);
      }
      assert.deepEqual((await get(alice.accountId)).forwardTo, { "0": "alice@elsewhere.test" });
    });
  });
});
