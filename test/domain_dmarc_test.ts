/**
 * The per-domain DMARC enforcement (x:Domain dmarcEnforcement): "enforce" by default, set by an
 * administrator only, refused with the property named when the value is not one of the three, and
 * carried by snapshot and apply.
 */
import assert from "node:assert/strict";
import { cli } from "./helpers.ts";
import { applyText, withInit } from "./cli_plan_helpers.ts";
import { call, create, createUser, notCreated, notUpdated, set, withApp } from "./jmap_helpers.ts";

Deno.test("a domain enforces DMARC by default and an administrator sets it to monitor", () =>
  withApp(async (t) => {
    const created = await create(t, "x:Domain", { name: "other.example" });
    assert.equal(created.dmarcEnforcement, "enforce");
    const got = await call(t, "x:Domain/get", { ids: ["b", created.id], properties: ["dmarcEnforcement"] });
    assert.deepEqual((got.list as Record<string, unknown>[]).map((d) => d.dmarcEnforcement), [
      "enforce",
      "enforce",
    ]);
    const result = await set(t, "x:Domain", { update: { b: { dmarcEnforcement: "monitor" } } });
    assert.equal(result.notUpdated, null, JSON.stringify(result.notUpdated));
    const after = await call(t, "x:Domain/get", { ids: ["b"], properties: ["dmarcEnforcement"] });
    assert.deepEqual(after.list, [{ id: "b", dmarcEnforcement: "monitor" }]);
    // A null resets it to the default (RFC 8620 §5.3).
    await set(t, "x:Domain", { update: { b: { dmarcEnforcement: null } } });
    const reset = await call(t, "x:Domain/get", { ids: ["b"], properties: ["dmarcEnforcement"] });
    assert.deepEqual(reset.list, [{ id: "b", dmarcEnforcement: "enforce" }]);
    const third = await create(t, "x:Domain", { name: "third.example", dmarcEnforcement: "quarantineOnly" });
    const read = await call(t, "x:Domain/get", { ids: [third.id], properties: ["dmarcEnforcement"] });
    assert.deepEqual(read.list, [{ id: third.id, dmarcEnforcement: "quarantineOnly" }]);
  }));

Deno.test("a plain user cannot change a domain's DMARC enforcement, though they can read it", () =>
  withApp(async (t) => {
    const user = await createUser(t, "alice");
    const refused = await notUpdated(t, "x:Domain", "b", { dmarcEnforcement: "monitor" }, user);
    assert.equal(refused.type, "forbidden");
    const made = await notCreated(t, "x:Domain", { name: "evil.example", dmarcEnforcement: "monitor" }, user);
    assert.equal(made.type, "forbidden");
    const read = await call(t, "x:Domain/get", { ids: ["b"], properties: ["dmarcEnforcement"] }, user);
    assert.deepEqual(read.list, [{ id: "b", dmarcEnforcement: "enforce" }]);
  }));

Deno.test("an unknown DMARC enforcement is refused with the property named, and nothing changes", () =>
  withApp(async (t) => {
    for (const value of ["reject", "", 7, { p: "none" }, "ENFORCE", true]) {
      const result = await set(t, "x:Domain", { update: { b: { dmarcEnforcement: value } } });
      assert.equal(result.updated, null, `${JSON.stringify(value)} was accepted`);
      const refused = (result.notUpdated as Record<string, Record<string, unknown>>).b;
      assert.equal(refused.type, "invalidProperties", JSON.stringify(refused));
      assert.deepEqual(refused.properties, ["dmarcEnforcement"]);
    }
    const read = await call(t, "x:Domain/get", { ids: ["b"], properties: ["dmarcEnforcement"] });
    assert.deepEqual(read.list, [{ id: "b", dmarcEnforcement: "enforce" }]);
  }));

Deno.test("snapshot and apply carry a domain's DMARC enforcement", async () => {
  await withInit(async (source) => {
    const plan = `{"op":"create","type":"domain","ref":"d","fields":{"name":"snap.example",` +
      `"dmarcEnforcement":"quarantineOnly"}}`;
    const populated = await applyText(["--data", source], plan);
    assert.equal(populated.code, 0, populated.stdout + populated.stderr);
    const snapshot = await cli(["--data", source, "snapshot"]);
    assert.equal(snapshot.code, 0, snapshot.stderr);
    const domainLine = snapshot.stdout.split("\n").find((l) => l.includes('"snap.example"'));
    assert.ok(domainLine, snapshot.stdout);
    assert.equal(JSON.parse(domainLine).fields.dmarcEnforcement, "quarantineOnly");
    await withInit(async (target) => {
      const applied = await applyText(["--data", target], snapshot.stdout);
      assert.equal(applied.code, 0, applied.stdout + applied.stderr);
      const again = await cli(["--data", target, "snapshot"]);
      const line = again.stdout.split("\n").find((l) => l.includes('"snap.example"'));
      assert.equal(JSON.parse(line!).fields.dmarcEnforcement, "quarantineOnly");
    });
  });
});
