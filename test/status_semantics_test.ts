/**
 * Honest status codes: 401 only for missing or invalid credentials, with the challenge of the scheme
 * presented; 403 for permissions; 404/405 for routing; 500 problem+json for internal faults.
 */
import assert from "node:assert/strict";
import { ADMIN_PASSWORD, basic, PASSWORD, startTestApp, type TestApp } from "./helpers.ts";

async function withApp(body: (t: TestApp) => Promise<void>) {
  const t = await startTestApp();
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

async function problem(response: Response) {
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  const body = await response.json();
  assert.equal(body.status, response.status);
  assert.equal(typeof body.detail, "string");
  assert.equal(body.requestId, response.headers.get("x-request-id"));
  return body;
}

Deno.test("no credentials: 401 offering both schemes", () =>
  withApp(async (t) => {
    const response = await t.fetch("/api/account");
    assert.equal(response.status, 401);
    const challenge = response.headers.get("www-authenticate")!;
    assert.match(challenge, /^Basic realm="Postern"/);
    assert.match(challenge, /Bearer realm="Postern"/);
    await problem(response);
  }));

Deno.test("a wrong password gets 401 with only a Basic challenge", () =>
  withApp(async (t) => {
    const response = await t.fetch("/api/account", {
      headers: { authorization: basic("admin@example.org", "nope") },
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), 'Basic realm="Postern", charset="UTF-8"');
    await problem(response);
  }));

Deno.test("the token endpoint challenges bad Basic client credentials with the API's one realm spelling", () =>
  withApp(async (t) => {
    const expected = 'Basic realm="Postern", charset="UTF-8"';
    for (const authorization of ["Basic !!!", basic("no-such-client", "x"), `Basic ${btoa("no-colon")}`]) {
      const response = await t.fetch("/auth/token", {
        method: "POST",
        headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials",
      });
      assert.equal(response.status, 401, authorization);
      assert.equal((await response.json()).error, "invalid_client");
      assert.equal(response.headers.get("www-authenticate"), expected, authorization);
    }
  }));

Deno.test("an invalid Bearer token gets 401 with a Bearer invalid_token challenge and never a Basic one", () =>
  withApp(async (t) => {
    for (const token of ["pst_notarealkey", "eyJhbGciOiJIUzI1NiJ9.e30.abc"]) {
      const response = await t.fetch("/api/account", { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 401);
      const challenge = response.headers.get("www-authenticate")!;
      assert.match(challenge, /^Bearer realm="Postern", error="invalid_token"/);
      assert.doesNotMatch(challenge, /Basic/);
      await problem(response);
    }
  }));

Deno.test("unknown account and wrong password give the same answer", () =>
  withApp(async (t) => {
    const a = await t.fetch("/api/account", { headers: { authorization: basic("nobody@example.org", "x") } });
    const b = await t.fetch("/api/account", { headers: { authorization: basic("admin@example.org", "x") } });
    assert.equal(a.status, b.status);
    assert.equal(a.headers.get("www-authenticate"), b.headers.get("www-authenticate"));
    const [pa, pb] = [await a.json(), await b.json()];
    assert.equal(pa.detail, pb.detail);
  }));

Deno.test("an authenticated user gets 403, not 401, for what only admins may read", () =>
  withApp(async (t) => {
    await t.services.objects.create("account/user", {
      name: "user",
      domainId: t.domainId,
      credentials: { "0": { "@type": "Password", secret: PASSWORD } },
    }, "system");
    const remote = { client: "203.0.113.7" };
    const user = await t.fetch("/metrics", {
      ...remote,
      headers: { authorization: basic("user@example.org", PASSWORD) },
    });
    assert.equal(user.status, 403);
    assert.equal(user.headers.get("www-authenticate"), null);
    await problem(user);
    const admin = await t.fetch("/metrics", {
      ...remote,
      headers: { authorization: basic("admin@example.org", ADMIN_PASSWORD) },
    });
    assert.equal(admin.status, 200);
    assert.match(await admin.text(), /postern_cache_hits_total\{cache="auth_headers"\}/);
    const anonymous = await t.fetch("/metrics", remote);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    const loopback = await t.fetch("/metrics");
    assert.equal(loopback.status, 200);
    await loopback.body?.cancel();
  }));

Deno.test("an internal failure of the account lookup is a 500 problem, never a 401", () =>
  withApp(async (t) => {
    const accounts = t.services.store.accounts;
    const original = accounts.get;
    // Test seam: make the repository fail as a broken disk or a bug would.
    (accounts as { get: typeof original }).get = () => Promise.reject(new Error("simulated storage fault"));
    try {
      t.services.caches.apply({ kind: "all" });
      const response = await t.fetch("/api/account", {
        headers: { authorization: basic("admin@example.org", ADMIN_PASSWORD) },
      });
      assert.equal(response.status, 500);
      assert.equal(response.headers.get("www-authenticate"), null);
      const body = await problem(response);
      assert.doesNotMatch(body.detail, /simulated/, "internals stay in the log");
    } finally {
      (accounts as { get: typeof original }).get = original;
    }
  }));

Deno.test("unknown paths are 404 and wrong methods 405 with Allow, both problem+json", () =>
  withApp(async (t) => {
    const missing = await t.fetch("/nothing/here");
    assert.equal(missing.status, 404);
    await problem(missing);
    const wrong = await t.fetch("/healthz", { method: "DELETE" });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET");
    await problem(wrong);
  }));

Deno.test("repeated failures are throttled with 429 and Retry-After, and the throttle ends by itself", () =>
  withApp(async (t) => {
    await t.services.settings.update("Authentication", {
      failedLoginFreeAttempts: 2,
      failedLoginBaseDelaySeconds: 1,
    });
    const bad = { headers: { authorization: basic("admin@example.org", "wrong") } };
    assert.equal((await t.fetch("/api/account", bad)).status, 401);
    assert.equal((await t.fetch("/api/account", bad)).status, 401);
    assert.equal((await t.fetch("/api/account", bad)).status, 401);
    const limited = await t.fetch("/api/account", {
      headers: { authorization: basic("admin@example.org", ADMIN_PASSWORD) },
    });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    await problem(limited);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await t.fetch("/api/account", {
      headers: { authorization: basic("admin@example.org", ADMIN_PASSWORD) },
    });
    assert.equal(after.status, 200);
    await after.body?.cancel();
  }));

Deno.test("malformed Authorization headers are 400 naming the problem and change nothing", () =>
  withApp(async (t) => {
    const nonUtf8 = "Basic " + btoa(String.fromCharCode(0xff, 0xfe, 0x3a, 0x61));
    const cases: [string, RegExp][] = [
      ["Basic !!!", /not valid base64/],
      ["Basic " + btoa("no-colon"), /user:password/],
      ["Basic", /empty/],
      [nonUtf8, /UTF-8/],
      ["Basic " + btoa(":password"), /empty user name/],
      ["Bearer ", /token/],
      ["Bearer a b c", /token/],
      ["Basic " + "A".repeat(9000), /longer than/],
    ];
    for (const [header, detail] of cases) {
      const response = await t.fetch("/api/account", { headers: { authorization: header } });
      assert.equal(response.status, 400, header.slice(0, 40));
      assert.match((await problem(response)).detail, detail);
    }
    const unknownScheme = await t.fetch("/api/account", { headers: { authorization: "Digest x" } });
    assert.equal(unknownScheme.status, 401);
    await unknownScheme.body?.cancel();
  }));

Deno.test("two long Authorization headers that share a long prefix are verified apart", () =>
  withApp(async (t) => {
    const prefix = "A".repeat(40_000);
    const first = await t.services.authenticator.authenticate(`Bearer pst_${prefix}1`, "127.0.0.1").catch((
      e,
    ) => e);
    const second = await t.services.authenticator.authenticate(`Bearer pst_${prefix}2`, "127.0.0.1").catch((
      e,
    ) => e);
    assert.equal(first.name, "AuthError");
    assert.equal(second.name, "AuthError");
    assert.equal(t.services.caches.authHeaders.size, 0, "nothing cached for refused headers");
    const key = (h: string) =>
      (t.services.authenticator as unknown as { deps: { headerKey(h: string): string } }).deps.headerKey(h);
    assert.notEqual(key(`Basic ${prefix}1`), key(`Basic ${prefix}2`));
  }));
