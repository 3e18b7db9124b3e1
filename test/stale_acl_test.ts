/**
 * The stale-ACL report (Stalwart 0.16.2): account 17 held grants from accounts 39 and 40, which were
 * deleted while their ACL rows stayed; /jmap/session then answered 401 to a valid user. Here grant
 * rows cannot outlive either account, and `db check` finds and repairs rows that were forced in.
 */
import assert from "node:assert/strict";
import { openStore } from "../src/store/mod.ts";
import { basic, cli, PASSWORD, startTestApp } from "./helpers.ts";

Deno.test("deleting the accounts that granted access removes their grant rows; db check finds nothing", async () => {
  const t = await startTestApp();
  try {
    const make = async (name: string) =>
      (await t.services.objects.create("account/user", {
        name,
        domainId: t.domainId,
        credentials: { "0": { "@type": "Password", secret: PASSWORD } },
      }, "system")).id as string;
    const ids = { a: await make("a"), b: await make("b"), c: await make("c") };
    const numeric = async (wire: string) => (await t.services.accounts.idByLogin(`${wire}@example.org`))!;
    const [a, b, c] = [await numeric("a"), await numeric("b"), await numeric("c")];
    await t.services.grants.grant({
      granteeId: a,
      ownerId: b,
      objectType: "account",
      objectId: null,
      rights: 0x1ff,
    });
    await t.services.grants.grant({
      granteeId: a,
      ownerId: c,
      objectType: "account",
      objectId: null,
      rights: 0x01,
    });
    assert.equal((await t.services.grants.heldBy(a)).length, 2);

    await t.services.objects.delete("account", ids.b, "system");
    await t.services.objects.delete("account", ids.c, "system");

    assert.deepEqual(await t.services.grants.heldBy(a), []);
    assert.deepEqual(await t.services.grants.givenBy(b), []);
    const report = await t.services.store.integrity.check();
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(report.dangling, []);

    // The user whose grantors vanished still authenticates normally.
    const response = await t.fetch("/api/account", {
      headers: { authorization: basic("a@example.org", PASSWORD) },
    });
    assert.equal(response.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("db check reports a dangling grant forced in with foreign keys off, and --repair removes it", async () => {
  const init = await Deno.makeTempDir({ prefix: "postern-acl-" });
  try {
    assert.equal((await cli(["init", "--data", init, "--json"])).code, 0);
    // Forge the report's state: a grant to account 1 from ids 39 and 40, which never existed.
    const store = openStore(`${init}/postern.db`);
    store.unsafeExec("PRAGMA foreign_keys = OFF");
    store.unsafeExec(
      "INSERT INTO acl (grantee_id, owner_id, object_type, object_id, rights) VALUES (1, 39, 'account', 0, 1), (1, 40, 'account', 0, 1)",
    );
    store.close();

    const check = await cli(["--data", init, "db", "check", "--json"]);
    assert.equal(check.code, 1, "dangling rows make db check fail");
    const report = JSON.parse(check.stdout);
    assert.equal(report.dangling.length, 2);
    assert.ok(
      report.dangling.every((d: { table: string; references: string }) =>
        d.table === "acl" && d.references === "accounts"
      ),
    );
    assert.match(report.dangling[0].detail, /owner_id=39/);

    const human = await cli(["--data", init, "db", "check"]);
    assert.match(human.stdout, /dangling: acl row \d+ references a missing accounts \(owner_id=39\)/);
    assert.match(human.stdout, /--repair/);

    const repair = await cli(["--data", init, "db", "check", "--repair", "--json"]);
    assert.equal(repair.code, 0, repair.stderr);
    assert.equal(JSON.parse(repair.stdout).repaired, 2);

    const after = await cli(["--data", init, "db", "check"]);
    assert.equal(after.code, 0);
    assert.match(after.stdout, /Database OK/);
  } finally {
    await Deno.remove(init, { recursive: true });
  }
});
