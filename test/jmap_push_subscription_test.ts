/**
 * PushSubscription (RFC 8620 §7.2) against a push endpoint on 127.0.0.1: the verification push, no
 * StateChange before the client sends the code back, then one per change; url and keys are never
 * returned; RFC 8291 encrypted pushes that an independent implementation (http_ece) decrypts; a
 * failing endpoint retried with backoff; 410 Gone drops the subscription; bad input named.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import crypto from "node:crypto";
import ece from "http_ece";
import { captureJmapLogs, startTestApp, type TestApp, until } from "./helpers.ts";
import { basic } from "./helpers.ts";
import { call, CORE, create, set, withApp } from "./jmap_helpers.ts";
import { createMailbox, createUsers, type Obj, userAccessToken, type Who } from "./mail_helpers.ts";
import { inProcessFetch, registerClient, TestBrowser } from "./oauth_helpers.ts";

interface Push {
  headers: Headers;
  body: Uint8Array;
}

/**
 * A push endpoint on a free loopback port; `statuses` are answered in turn, then 201. With `hold`, the
 * answer to request number `hold.request` (1 is the first) waits for `hold.until`.
 */
function endpoint(statuses: number[] = [], hold?: { request: number; until: Promise<void> }) {
  const pushes: Push[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    pushes.push({ headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) });
    const status = statuses.shift() ?? 201;
    if (pushes.length === hold?.request) await hold.until;
    return new Response(null, { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/push/device-1`,
    pushes,
    json: (i: number) => JSON.parse(new TextDecoder().decode(pushes[i].body)),
    close: () => server.shutdown(),
  };
}

async function pushCall(t: TestApp, who: Who, name: string, args: Obj): Promise<Obj> {
  const response = await t.fetch("/jmap", {
    method: "POST",
    headers: { authorization: who.auth, "content-type": "application/json" },
    body: JSON.stringify({ using: [CORE], methodCalls: [[name, args, "0"]] }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  const [[answered, result]] = body.methodResponses;
  assert.equal(answered, name, JSON.stringify(result));
  return result;
}

Deno.test("a push subscription is verified by the code pushed to its URL, then gets a StateChange for each change", async () => {
  const device = endpoint();
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const set = await pushCall(t, alice, "PushSubscription/set", {
        create: { p: { deviceClientId: "phone-1", url: device.url, types: ["Mailbox"] } },
      });
      const created = (set.created as Record<string, Obj>).p;
      assert.equal(typeof created.id, "string");
      assert.match(String(created.expires), /^\d{4}-\d\d-\d\dT/, "the server tells the expiry it chose");
      await until(() => device.pushes.length === 1, "the verification push");
      const verification = device.json(0);
      assert.equal(verification["@type"], "PushVerification");
      assert.equal(verification.pushSubscriptionId, created.id);
      assert.equal(device.pushes[0].headers.get("content-type"), "application/json; charset=utf-8");
      assert.ok(Number(device.pushes[0].headers.get("ttl")) > 0, "RFC 8030 TTL");

      // Not verified yet: a change pushes nothing.
      await createMailbox(t, alice, { name: "Before" });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(device.pushes.length, 1);

      const wrong = await pushCall(t, alice, "PushSubscription/set", {
        update: { [created.id as string]: { verificationCode: "guess" } },
      });
      assert.equal((wrong.notUpdated as Record<string, Obj>)[created.id as string].type, "invalidProperties");
      const right = await pushCall(t, alice, "PushSubscription/set", {
        update: { [created.id as string]: { verificationCode: verification.verificationCode } },
      });
      assert.deepEqual(right.updated, { [created.id as string]: null });

      const got = await pushCall(t, alice, "PushSubscription/get", { ids: null });
      assert.deepEqual(got.list, [{
        id: created.id,
        deviceClientId: "phone-1",
        verificationCode: verification.verificationCode,
        expires: created.expires,
        types: ["Mailbox"],
      }], "url and keys are never returned");
      assert.equal("accountId" in got, false);

      await createMailbox(t, alice, { name: "After" });
      await until(() => device.pushes.length === 2, "a StateChange");
      const change = device.json(1);
      assert.equal(change["@type"], "StateChange");
      assert.deepEqual(Object.keys(change.changed), [alice.accountId]);
      assert.deepEqual(Object.keys(change.changed[alice.accountId]), ["Mailbox"]);

      const gone = await pushCall(t, alice, "PushSubscription/set", { destroy: [created.id] });
      assert.deepEqual(gone.destroyed, [created.id]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await createMailbox(t, alice, { name: "Gone" });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(device.pushes.length, 2, "a destroyed subscription gets nothing");
    });
  } finally {
    await device.close();
  }
});

Deno.test("with RFC 8291 keys every push is aes128gcm that the device's own key decrypts", async () => {
  const device = endpoint();
  const ua = crypto.createECDH("prime256v1");
  ua.generateKeys();
  const auth = crypto.randomBytes(16);
  const decrypt = (i: number) =>
    JSON.parse(
      ece.decrypt(Buffer.from(device.pushes[i].body), {
        version: "aes128gcm",
        privateKey: ua,
        authSecret: auth,
      })
        .toString(),
    );
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const keys = { p256dh: ua.getPublicKey().toString("base64url"), auth: auth.toString("base64url") };
      const set = await pushCall(t, alice, "PushSubscription/set", {
        create: { p: { deviceClientId: "browser", url: device.url, keys } },
      });
      const id = (set.created as Record<string, Obj>).p.id as string;
      await until(() => device.pushes.length === 1, "the verification push");
      assert.equal(device.pushes[0].headers.get("content-encoding"), "aes128gcm");
      assert.doesNotMatch(new TextDecoder().decode(device.pushes[0].body), /PushVerification/);
      const verification = decrypt(0);
      assert.equal(verification["@type"], "PushVerification");
      await pushCall(t, alice, "PushSubscription/set", {
        update: { [id]: { verificationCode: verification.verificationCode } },
      });
      await createMailbox(t, alice, { name: "Secret" });
      await until(() => device.pushes.length === 2, "an encrypted StateChange");
      assert.equal(decrypt(1)["@type"], "StateChange");
    });
  } finally {
    await device.close();
  }
});

Deno.test("a failing push endpoint is retried with backoff; 410 Gone drops the subscription", async () => {
  // The verification is taken; the first StateChange fails with 503, its retry is taken; then 410.
  const device = endpoint([201, 503, 201, 410]);
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const set = await pushCall(t, alice, "PushSubscription/set", {
        create: { p: { deviceClientId: "tablet", url: device.url } },
      });
      const id = (set.created as Record<string, Obj>).p.id as string;
      await until(() => device.pushes.length === 1, "the verification push");
      await pushCall(t, alice, "PushSubscription/set", {
        update: { [id]: { verificationCode: device.json(0).verificationCode } },
      });
      await createMailbox(t, alice, { name: "One" });
      await until(() => device.pushes.length === 2, "the first try");
      await until(() => device.pushes.length === 3, "the retry");
      assert.deepEqual(device.json(2), device.json(1), "the retry carries the same change");
      await createMailbox(t, alice, { name: "Two" });
      await until(() => device.pushes.length === 4, "the push answered 410");
      await until(
        async () =>
          ((await pushCall(t, alice, "PushSubscription/get", { ids: null })).list as Obj[]).length === 0,
        "410 Gone to drop the subscription",
      );
    });
  } finally {
    await device.close();
  }
});

Deno.test("a subscription destroyed while its push is in flight is never retried: the destroy wins the race with the retry timer", async () => {
  // The verification is taken; the first StateChange is held, then answered 503 (a retry would follow).
  let releaseHeld!: () => void;
  const device = endpoint([201, 503], { request: 2, until: new Promise((resolve) => releaseHeld = resolve) });
  const control = endpoint();
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const doomed = await verifiedSubscription(t, alice, device);
      await verifiedSubscription(t, alice, control);
      await until(() => t.app.webPushServed() === 2, "both subscriptions served");
      await createMailbox(t, alice, { name: "One" });
      await until(() => device.pushes.length === 2, "the StateChange reaches the device and is held there");
      const destroyed = await pushCall(t, alice, "PushSubscription/set", { destroy: [doomed] });
      assert.deepEqual(destroyed.destroyed, [doomed]);
      releaseHeld(); // 503: the sender would retry after its backoff
      await until(
        () => t.app.webPushServed() === 1,
        "the destroyed subscription to be dropped, its retry with it",
      );
      await createMailbox(t, alice, { name: "Two" });
      await until(() => control.pushes.length === 3, "the control's second StateChange");
      assert.equal(device.pushes.length, 2, "nothing went to the destroyed subscription after its destroy");
    });
  } finally {
    releaseHeld();
    await device.close();
    await control.close();
  }
});

Deno.test("bad push subscriptions are refused with the property named", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const set = await pushCall(t, alice, "PushSubscription/set", {
      create: {
        ftp: { deviceClientId: "d", url: "ftp://127.0.0.1/push" },
        relative: { deviceClientId: "d", url: "/push" },
        keys: { deviceClientId: "d", url: "https://push.example/x", keys: { p256dh: "short", auth: "x" } },
        past: { deviceClientId: "d", url: "https://push.example/x", expires: "2020-01-01T00:00:00Z" },
        code: { deviceClientId: "d", url: "https://push.example/x", verificationCode: "mine" },
        noDevice: { url: "https://push.example/x" },
      },
    });
    const notCreated = set.notCreated as Record<string, Obj>;
    for (
      const [key, property] of [
        ["ftp", "url"],
        ["relative", "url"],
        ["keys", "keys"],
        ["past", "expires"],
        ["code", "verificationCode"],
        ["noDevice", "deviceClientId"],
      ]
    ) {
      assert.equal(notCreated[key]?.type, "invalidProperties", key);
      assert.deepEqual(notCreated[key].properties, [property], key);
    }
    assert.equal(set.created, null);
    const ok = await pushCall(t, alice, "PushSubscription/set", {
      create: { p: { deviceClientId: "d", url: "https://push.example/x" } },
    });
    const id = (ok.created as Record<string, Obj>).p.id as string;
    const immutable = await pushCall(t, alice, "PushSubscription/set", {
      update: { [id]: { url: "https://elsewhere.example/" } },
    });
    assert.deepEqual((immutable.notUpdated as Record<string, Obj>)[id].properties, ["url"]);
    // Another user's subscription does not exist for Bob.
    const [bob] = await createUsers(t, ["bob"]);
    const theirs = await pushCall(t, bob, "PushSubscription/set", { destroy: [id] });
    assert.equal((theirs.notDestroyed as Record<string, Obj>)[id].type, "notFound");
    assert.deepEqual((await pushCall(t, bob, "PushSubscription/get", { ids: [id] })).notFound, [id]);
  });
});

Deno.test("by default no push goes to a loopback or private address: the verification push is refused and logged", async () => {
  const device = endpoint();
  const logs = await captureJmapLogs();
  // The test helpers allow private targets for the other tests' receivers; this one has the default.
  const t = await startTestApp({ env: { POSTERN_PUSH_PRIVATE_TARGETS: "deny" } });
  try {
    const [alice] = await createUsers(t, ["alice"]);
    // An https:// URL (http:// is refused at creation, see below) to the loopback receiver.
    const url = device.url.replace("http://", "https://");
    const set = await pushCall(t, alice, "PushSubscription/set", {
      create: { p: { deviceClientId: "phone-1", url, types: ["Mailbox"] } },
    });
    const id = (set.created as Record<string, Obj>).p.id;
    const refusal = () =>
      logs.records.find((r) => String(r.rawMessage).includes("refused") && r.properties.id !== undefined);
    await until(() => refusal() !== undefined, "the refusal in the log");
    assert.match(String(refusal()!.properties.reason), /127\.0\.0\.1 is not a public address/);
    assert.equal(typeof id, "string");
    assert.equal(device.pushes.length, 0, "nothing reached the loopback endpoint");
  } finally {
    await t.close();
    await logs.stop();
    await device.close();
  }
});

Deno.test("a token with only openid cannot create, list or destroy push subscriptions; one with the mail scope can", async () => {
  const device = endpoint();
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const client = await registerClient(t.services, { requireConsent: false });
      const tokenFor = async (scope: string): Promise<Who> => ({
        ...alice,
        auth: `Bearer ${await userAccessToken(
          t,
          new TestBrowser("http://127.0.0.1:8080", inProcessFetch(t)),
          client,
          {
            username: alice.emailAddress,
            scope,
          },
        )}`,
      });
      const openid = await tokenFor("openid");
      const create = { create: { p: { deviceClientId: "phone", url: device.url, types: null } } };
      for (
        const [name, args] of [["PushSubscription/set", create], ["PushSubscription/get", {
          ids: null,
        }]] as const
      ) {
        const refused = await pushCall(t, openid, name, args).catch((error) => error as Error);
        assert.ok(refused instanceof Error, `${name} answered ${JSON.stringify(refused)}`);
        assert.match(refused.message, /"type":"forbidden".*scope .*urn:ietf:params:jmap:mail/);
      }
      assert.equal(device.pushes.length, 0, "no verification push went out");
      assert.deepEqual((await pushCall(t, alice, "PushSubscription/get", { ids: null })).list, []);
      const mail = await tokenFor("openid urn:ietf:params:jmap:mail");
      const made = (await pushCall(t, mail, "PushSubscription/set", create)).created as Record<string, Obj>;
      assert.ok(made?.p?.id);
      const destroy = { destroy: [made.p.id] };
      const notDestroyed = await pushCall(t, openid, "PushSubscription/set", destroy).catch((error) =>
        error as Error
      );
      assert.ok(notDestroyed instanceof Error);
      assert.equal(
        ((await pushCall(t, mail, "PushSubscription/get", { ids: null })).list as Obj[]).length,
        1,
      );
    });
  } finally {
    await device.close();
  }
});

/** Creates a subscription as `who` on `device` and sends the verification code back; its id. */
async function verifiedSubscription(
  t: TestApp,
  who: Who,
  device: ReturnType<typeof endpoint>,
  verifier: Who = who,
): Promise<string> {
  const before = device.pushes.length;
  const set = await pushCall(t, who, "PushSubscription/set", {
    create: { p: { deviceClientId: "device", url: device.url, types: ["Mailbox"] } },
  });
  const id = (set.created as Record<string, Obj>).p.id as string;
  await until(() => device.pushes.length > before, "the verification push");
  const { verificationCode } = device.json(before);
  const verified = await pushCall(t, verifier, "PushSubscription/set", {
    update: { [id]: { verificationCode } },
  });
  assert.deepEqual(verified.updated, { [id]: null });
  return id;
}

for (
  const revocation of ["an API key is deleted", "an app password is deleted", "the password changes"] as const
) {
  Deno.test(`a push subscription ends when the credential that made it ends: ${revocation}`, async () => {
    const revoked = endpoint();
    const control = endpoint();
    try {
      await withApp(async (t) => {
        const [alice] = await createUsers(t, ["alice"]);
        const key = await create(t, "x:ApiKey", { description: "push" }, {
          auth: alice.auth,
          accountId: alice.accountId,
        });
        const appPassword = await create(t, "x:AppPassword", { description: "phone" }, {
          auth: alice.auth,
          accountId: alice.accountId,
        });
        const byKey: Who = { ...alice, auth: `Bearer ${key.secret}` };
        const byAppPassword: Who = {
          ...alice,
          auth: basic(alice.emailAddress, appPassword.secret as string),
        };
        // The subscription under test is made with the credential that ends; the control with another.
        const [made, other] = revocation === "an API key is deleted"
          ? [byKey, alice]
          : revocation === "an app password is deleted"
          ? [byAppPassword, alice]
          : [alice, byKey];
        const doomed = await verifiedSubscription(t, made, revoked);
        await verifiedSubscription(t, other, control);

        if (revocation === "an API key is deleted") {
          await set(t, "x:ApiKey", { destroy: [key.id] }, { auth: alice.auth, accountId: alice.accountId });
        } else if (revocation === "an app password is deleted") {
          await set(t, "x:AppPassword", { destroy: [appPassword.id] }, {
            auth: alice.auth,
            accountId: alice.accountId,
          });
        } else {
          await set(t, "x:Account", {
            accountId: "b",
            update: {
              [alice.accountId]: {
                credentials: { "0": { "@type": "Password", secret: "a new passphrase 2" } },
              },
            },
          });
        }
        const listed = await pushCall(t, other, "PushSubscription/get", { ids: null });
        assert.equal(
          (listed.list as Obj[]).some((s) => s.id === doomed),
          false,
          "the subscription is destroyed",
        );

        const before = revoked.pushes.length;
        await createMailbox(t, other, { name: "After" });
        await until(() => control.pushes.length === 2, "the control subscription's StateChange");
        assert.equal(revoked.pushes.length, before, "no push for a revoked credential's subscription");
      });
    } finally {
      await revoked.close();
      await control.close();
    }
  });
}

Deno.test("a push subscription made with an OAuth token ends when its grant is revoked, and pushes stop at once", async () => {
  const revoked = endpoint();
  const control = endpoint();
  try {
    await withApp(async (t) => {
      const [alice] = await createUsers(t, ["alice"]);
      const client = await registerClient(t.services, { requireConsent: false });
      const token: Who = {
        ...alice,
        auth: `Bearer ${await userAccessToken(
          t,
          new TestBrowser("http://127.0.0.1:8080", inProcessFetch(t)),
          client,
          { username: alice.emailAddress, scope: "openid urn:ietf:params:jmap:mail" },
        )}`,
      };
      const doomed = await verifiedSubscription(t, token, revoked);
      await verifiedSubscription(t, alice, control);
      // The web push sender holds the subscription; the grant goes without it being told.
      const grants = (await call(t, "x:OAuthGrant/get", {}, { auth: alice.auth, accountId: alice.accountId }))
        .list as Obj[];
      assert.equal(grants.length, 1);
      await set(t, "x:OAuthGrant", { destroy: [grants[0].id] }, {
        auth: alice.auth,
        accountId: alice.accountId,
      });
      const listed = await pushCall(t, alice, "PushSubscription/get", { ids: null });
      assert.equal(
        (listed.list as Obj[]).some((s) => s.id === doomed),
        false,
        "the subscription is destroyed",
      );
      await createMailbox(t, alice, { name: "After" });
      await until(() => control.pushes.length === 2, "the control subscription's StateChange");
      assert.equal(revoked.pushes.length, 1, "only the verification push reached the revoked token's device");
    });
  } finally {
    await revoked.close();
    await control.close();
  }
});

Deno.test("a push URL must be https:// (RFC 8620 §7.2); http:// only for a loopback or private host when private targets are allowed", async () => {
  // RFC 8620 §7.2: "url: String (immutable) An absolute URL where the JMAP server will POST the data
  // for the push message. This MUST begin with "https://"."
  for (const allow of [false, true]) {
    const t = await startTestApp({ env: { POSTERN_PUSH_PRIVATE_TARGETS: allow ? "allow" : "deny" } });
    try {
      const [alice] = await createUsers(t, ["alice"]);
      const set = await pushCall(t, alice, "PushSubscription/set", {
        create: {
          publicHttp: { deviceClientId: "d", url: "http://93.184.215.14/push" },
          loopbackHttp: { deviceClientId: "d", url: "http://127.0.0.1:9/push" },
          privateHttp: { deviceClientId: "d", url: "http://[fd00::1]:9/push" },
          localhostHttp: { deviceClientId: "d", url: "http://localhost:9/push" },
          upperCase: { deviceClientId: "d", url: "HTTP://93.184.215.14/push" },
          https: { deviceClientId: "d", url: "https://127.0.0.1:9/push" },
        },
      });
      const created = (set.created ?? {}) as Record<string, Obj>;
      const notCreated = (set.notCreated ?? {}) as Record<string, Obj>;
      const allowed = allow ? ["https", "localhostHttp", "loopbackHttp", "privateHttp"] : ["https"];
      assert.deepEqual(Object.keys(created).sort(), allowed, `allow=${allow}: ${JSON.stringify(set)}`);
      for (const [key, error] of Object.entries(notCreated)) {
        assert.equal(error.type, "invalidProperties", `allow=${allow} ${key}`);
        assert.deepEqual(error.properties, ["url"], `allow=${allow} ${key}`);
        assert.match(String(error.description), /https:\/\//);
      }
      const listed = await pushCall(t, alice, "PushSubscription/get", { ids: null });
      assert.equal((listed.list as Obj[]).length, allowed.length);
    } finally {
      await t.close();
    }
  }
});

Deno.test("a PushSubscription update may repeat id, deviceClientId and url unchanged; a changed one is invalidProperties (RFC 8620 §5.3, §7.2)", async () => {
  await withApp(async (t) => {
    const [alice] = await createUsers(t, ["alice"]);
    const url = "https://127.0.0.1:9/push";
    const made = await pushCall(t, alice, "PushSubscription/set", {
      create: { p: { deviceClientId: "d", url } },
    });
    const id = (made.created as Record<string, Obj>).p.id as string;
    // RFC 8620 §5.3: "Any server-set properties MAY be included in the patch if their value is identical
    // to the current server value (before applying the patches to the object). Otherwise, the update
    // MUST be rejected with an invalidProperties SetError."
    const same = await pushCall(t, alice, "PushSubscription/set", {
      update: { [id]: { id, deviceClientId: "d", url, types: ["Mailbox"] } },
    });
    assert.equal(same.notUpdated, null, JSON.stringify(same.notUpdated));
    assert.deepEqual(Object.keys(same.updated as Obj), [id]);
    const got = await pushCall(t, alice, "PushSubscription/get", { ids: [id] });
    assert.deepEqual((got.list as Obj[])[0].types, ["Mailbox"]);
    for (
      const [key, value] of [["id", "zzzz"], ["deviceClientId", "other"], ["url", "https://127.0.0.1:10/"]]
    ) {
      const changed = await pushCall(t, alice, "PushSubscription/set", {
        update: { [id]: { [key]: value } },
      });
      const error = (changed.notUpdated as Record<string, Obj>)[id];
      assert.equal(error?.type, "invalidProperties", `${key}: ${JSON.stringify(changed)}`);
      assert.deepEqual(error.properties, [key]);
    }
  });
});
