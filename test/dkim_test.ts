/**
 * DKIM signing of outgoing mail (RFC 6376, RFC 8463): every domain gets an Ed25519 and an RSA key
 * when it is created, administrators alone read them (x:DkimKey), `DnsRecords` publishes them, mail
 * submitted over JMAP leaves through the smarthost signed with both and mailauth verifies both
 * against the published records; RotateDkimKeys switches the selectors and keeps the old records
 * until the retired keys are destroyed. Bad input: unknown domain, non-administrators.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { TestApp } from "./helpers.ts";
import { ADMIN, call, callError, create, set, withApp } from "./jmap_helpers.ts";
import { createUsers, type Obj, type Who } from "./mail_helpers.ts";
import { call as submissionCall, draft, send } from "./submission_helpers.ts";
import { resolverOf, verifyDkim } from "./dkim_helpers.ts";
import { smarthost } from "./smtp_helpers.ts";

const month = () => new Date().toISOString().slice(0, 7).replace("-", "");

const keysOf = async (t: TestApp, domain: string) =>
  ((await call(t, "x:DkimKey/get", { ids: null })).list as Obj[]).filter((k) => k.domainName === domain);

const action = async (t: TestApp, object: Obj, auth = ADMIN, accountId = "b") =>
  await set(t, "x:Action", { create: { a: object } }, { auth, accountId });

const published = async (t: TestApp, domain: string) =>
  (((await action(t, { "@type": "DnsRecords", domain })).created as Obj).a as Obj).records as Obj[];

const sendOut = async (t: TestApp, alice: Who, subject: string) => {
  const emailId = await draft(t, alice, { to: [{ name: null, email: "friend@elsewhere.example" }], subject });
  await send(t, alice, emailId);
  await t.services.queue.runDue();
};

Deno.test("a new domain gets an Ed25519 and an RSA DKIM key, which administrators alone can read", async () => {
  await withApp(async (t) => {
    const domain = await create(t, "x:Domain", { name: "new.example" });
    const keys = await keysOf(t, "new.example");
    assert.deepEqual(keys.map((k) => [k.algorithm, k.selector, k.active]).sort(), [
      ["ed25519", `pe${month()}`, true],
      ["rsa", `pr${month()}`, true],
    ]);
    assert.ok(keys.every((k) => k.domainId === domain.id));
    const ed = keys.find((k) => k.algorithm === "ed25519")!;
    assert.equal(Buffer.from(String(ed.publicKey), "base64").length, 32, "RFC 8463: the bare 32-byte key");
    assert.match(String(ed.dnsValue), /^"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/=]+"$/);
    assert.ok(!("privateKey" in ed), "the private key never leaves the server");

    const [alice] = await createUsers(t, ["alice"]);
    const refused = await callError(t, "x:DkimKey/get", { accountId: alice.accountId, ids: null }, {
      auth: alice.auth,
    });
    assert.equal(refused.type, "forbidden");
    const made = await set(t, "x:DkimKey", { create: { k: { selector: "mine" } } });
    assert.equal(((made.notCreated as Obj).k as Obj).type, "forbidden", JSON.stringify(made));
    const active = await set(t, "x:DkimKey", { destroy: [ed.id] });
    assert.equal(
      ((active.notDestroyed as Obj)[String(ed.id)] as Obj).type,
      "forbidden",
      JSON.stringify(active),
    );
  });
});

Deno.test("mail submitted over JMAP leaves signed with both keys; rotation switches selectors and keeps old records", async () => {
  const host = await smarthost();
  try {
    await withApp(async (t) => {
      const [alice, bob] = await createUsers(t, ["alice", "bob"]);
      await set(t, "x:Smarthost", {
        update: { singleton: { host: "127.0.0.1", port: host.port, security: "none" } },
      });
      await set(t, "x:Outbound", { update: { singleton: { route: "smarthost" } } });
      const emailId = await draft(t, alice, {
        to: [{ name: null, email: "friend@elsewhere.example" }, { name: null, email: bob.emailAddress }],
        subject: "Signed",
      });
      await send(t, alice, emailId);
      await t.services.queue.runDue();
      assert.equal(host.received.length, 1);
      const first = host.received[0].data;
      assert.equal(first.match(/^DKIM-Signature:/gim)?.length, 2, first.slice(0, 2000));
      assert.match(first, /^DKIM-Signature:[^]*?\bh=[^;]*\bFrom\b/im, "From is signed");
      const records = await published(t, "example.org");
      const verified = await verifyDkim(first, resolverOf(records));
      assert.deepEqual(verified.map((v) => [v.algorithm, v.selector, v.domain, v.result]).sort(), [
        ["ed25519-sha256", `pe${month()}`, "example.org", "pass"],
        ["rsa-sha256", `pr${month()}`, "example.org", "pass"],
      ]);

      // Bob's copy, delivered here, carries the same signatures.
      const [bobsId] = (await submissionCall(t, bob, "Email/query", {})).ids as string[];
      const [bobs] = (await submissionCall(t, bob, "Email/get", {
        ids: [bobsId],
        properties: ["header:DKIM-Signature:all"],
      })).list as Obj[];
      const local = bobs["header:DKIM-Signature:all"] as string[];
      assert.equal(local.length, 2);
      assert.deepEqual(
        local.map((h) => /\bs=([^;\s]+)/.exec(h)?.[1]).sort(),
        [`pe${month()}`, `pr${month()}`],
      );

      // Rotation: new selectors sign, the old records stay published.
      const rotated = (await action(t, { "@type": "RotateDkimKeys", domain: "example.org" })).created as Obj;
      const selectors = (rotated.a as Obj).selectors as string[];
      assert.deepEqual(selectors.sort(), [`pe${month()}b`, `pr${month()}b`]);
      await sendOut(t, alice, "Signed again");
      const after = await published(t, "example.org");
      const dkimNames = (rs: Obj[]) =>
        rs.filter((r) => String(r.name).includes("._domainkey.")).map((r) => r.name);
      assert.equal(dkimNames(after).length, 4, "old and new keys are published");
      const second = await verifyDkim(host.received[1].data, resolverOf(after));
      assert.deepEqual(second.map((v) => [v.selector, v.result]).sort(), selectors.map((s) => [s, "pass"]));
      // The first message still verifies against what is published now.
      assert.ok((await verifyDkim(first, resolverOf(after))).every((v) => v.result === "pass"));

      // The operator removes the retired keys: their records go.
      const retired = (await keysOf(t, "example.org")).filter((k) => !k.active);
      assert.equal(retired.length, 2);
      const destroyed = await set(t, "x:DkimKey", { destroy: retired.map((k) => k.id) });
      assert.deepEqual((destroyed.destroyed as string[]).sort(), retired.map((k) => String(k.id)).sort());
      assert.deepEqual(
        dkimNames(await published(t, "example.org")).sort(),
        selectors.map((s) => `${s}._domainkey.example.org.`),
      );
    });
  } finally {
    await host.close();
  }
});

Deno.test("RotateDkimKeys refuses an unknown domain (notFound), a bad name and a non-administrator (forbidden)", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const error = async (object: Obj, auth = ADMIN, accountId = "b") =>
      ((await action(t, object, auth, accountId)).notCreated as Obj).a as Obj;
    assert.equal((await error({ "@type": "RotateDkimKeys", domain: "nowhere.test" })).type, "notFound");
    const bad = await error({ "@type": "RotateDkimKeys", domain: "not a name" });
    assert.equal(bad.type, "invalidProperties");
    assert.deepEqual(bad.properties, ["domain"]);
    const user = await error(
      { "@type": "RotateDkimKeys", domain: "example.org" },
      alice.auth,
      alice.accountId,
    );
    assert.equal(user.type, "forbidden");
    assert.deepEqual(
      (await keysOf(t, "example.org")).map((k) => k.active),
      [true, true],
      "nothing was rotated",
    );
  });
});
