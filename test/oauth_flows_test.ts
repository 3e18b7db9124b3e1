/**
 * The OAuth flows hardened in issue 18: an `id_token_hint` at the authorization endpoint names the only
 * user a code may be for; a remembered consent ends with the last grant; a replayed refresh token gets
 * nothing new, and a token family has an absolute lifetime; a loopback redirect URI with an impossible
 * port is an error page; introspection answers a client only about its own tokens; a new signing key is
 * in the JWKS before it signs.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from "jose";
import { PASSWORD, type TestApp } from "./helpers.ts";
import { call, createUser, notCreated, set } from "./jmap_helpers.ts";
import { ADMIN, registerClient, type TestClient } from "./oauth_helpers.ts";
import {
  assertErrorPage,
  assertErrorRedirect,
  assertLoginPage,
  authorizationRequest,
  clientAuth,
  clientRedirect,
  ISSUER,
  newBrowser,
  obtainTokens,
  postForm,
  type Provider,
  redeemCode,
  refresh,
  type Tokens,
  withProvider,
} from "./oauth_security_helpers.ts";

const OFFLINE = { scope: "openid offline_access" };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A whole code flow signed in as `username` in a fresh browser of `p`; that browser keeps the session. */
async function tokensAs(p: Provider, username: string): Promise<Tokens> {
  const browser = newBrowser(p.t);
  const request = authorizationRequest(p.client);
  const redirect = await browser.authorize(request.url, { username, password: PASSWORD });
  const answer = await redeemCode(p.t, p.client, redirect.searchParams.get("code")!, request.verifier);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as Tokens;
}

/** Test seam: runs SQL on the app's database file, as another process would. */
function onDatabase(t: TestApp, sql: string, ...values: number[]): void {
  const db = new DatabaseSync(`${t.dataDir}/postern.db`);
  try {
    db.prepare(sql).run(...values);
  } finally {
    db.close();
  }
}

// --- id_token_hint at /auth/authorize (OIDC Core §3.1.2.1) ---

Deno.test("prompt=none with an id_token_hint naming another user is login_required, not a code for the signed-in one", () =>
  withProvider(async (p) => {
    const alice = await createUser(p.t, "alice");
    const aliceIdToken = (await tokensAs(p, alice.emailAddress)).id_token!;
    const adminIdToken = (await obtainTokens(p)).id_token!;

    const hinted = authorizationRequest(p.client, { prompt: "none", id_token_hint: aliceIdToken });
    await assertErrorRedirect(await p.browser.request(hinted.url), p.client.redirectUri, "login_required");

    const own = authorizationRequest(p.client, { prompt: "none", id_token_hint: adminIdToken });
    assert.ok((await clientRedirect(await p.browser.request(own.url), p.client.redirectUri)).get("code"));
  }));

Deno.test("an id_token_hint naming another user asks to sign in: someone else is login_required, the named user gets a code", () =>
  withProvider(async (p) => {
    const alice = await createUser(p.t, "alice");
    const aliceIdToken = (await tokensAs(p, alice.emailAddress)).id_token!;
    await obtainTokens(p);

    const asked = await p.browser.request(
      authorizationRequest(p.client, { id_token_hint: aliceIdToken }).url,
    );
    const form = await assertLoginPage(asked);
    const someoneElse = await p.browser.submit(form, ADMIN);
    const refused = await assertErrorRedirect(someoneElse, p.client.redirectUri, "login_required");
    assert.equal(refused.get("state"), "state-1");

    const named = await p.browser.authorize(
      authorizationRequest(p.client, { id_token_hint: aliceIdToken }).url,
      { username: alice.emailAddress, password: PASSWORD },
    );
    assert.ok(named.searchParams.get("code"), named.href);
  }));

Deno.test("an id_token_hint this server did not sign, or sent twice, is invalid_request at the client", () =>
  withProvider(async (p) => {
    await obtainTokens(p);
    const forged = `${btoa('{"alg":"none"}')}.${btoa('{"sub":"b"}')}.`;
    for (const hint of ["not-a-jwt", forged]) {
      const request = authorizationRequest(p.client, { prompt: "none", id_token_hint: hint });
      await assertErrorRedirect(
        await p.browser.request(request.url),
        p.client.redirectUri,
        "invalid_request",
      );
    }
    const twice = `${authorizationRequest(p.client).url}&id_token_hint=a&id_token_hint=b`;
    await assertErrorRedirect(await p.browser.request(twice), p.client.redirectUri, "invalid_request");
  }));

// --- consent withdrawn with the last grant ---

async function grantIds(p: Provider): Promise<string[]> {
  return ((await call(p.t, "x:OAuthGrant/get", {})).list as { id: string }[]).map((g) => g.id);
}

/** The consent page, asserted to be what the authorization shows. */
async function assertConsentPage(response: Response): Promise<void> {
  const html = await response.text();
  assert.equal(response.status, 200, html.slice(0, 300));
  assert.match(html, /Allow access\?/);
}

Deno.test("after the user destroys their last grant of a client, the next authorization asks for consent again", () =>
  withProvider(async (p) => {
    await obtainTokens(p);
    const remembered = await p.browser.request(authorizationRequest(p.client).url);
    assert.ok((await clientRedirect(remembered, p.client.redirectUri)).get("code"), "consent was remembered");

    const [grant] = await grantIds(p);
    const destroyed = await set(p.t, "x:OAuthGrant", { destroy: [grant] });
    assert.deepEqual(destroyed.destroyed, [grant]);

    const none = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    await assertErrorRedirect(none, p.client.redirectUri, "consent_required");
    await assertConsentPage(await p.browser.request(authorizationRequest(p.client).url));
  }));

Deno.test("consent stays while another grant of the client lives; revoking the last one (RFC 7009) ends it", () =>
  withProvider(async (p) => {
    const first = await obtainTokens(p, OFFLINE);
    await obtainTokens(p, OFFLINE);
    const [newest] = await grantIds(p);
    await set(p.t, "x:OAuthGrant", { destroy: [newest] });
    const kept = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    assert.ok((await clientRedirect(kept, p.client.redirectUri)).get("code"), "one grant is left");

    const revoked = await postForm(p.t, "/auth/revoke", {
      token: first.refresh_token!,
      ...clientAuth(p.client),
    });
    assert.equal(revoked.status, 200);
    const none = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    await assertErrorRedirect(none, p.client.redirectUri, "consent_required");
  }));

Deno.test("another user's withdrawal leaves a user's consent alone", () =>
  withProvider(async (p) => {
    const alice = await createUser(p.t, "alice");
    await tokensAs(p, alice.emailAddress);
    await obtainTokens(p);
    const alicesGrants = (await call(p.t, "x:OAuthGrant/get", {}, alice)).list as { id: string }[];
    assert.equal(alicesGrants.length, 1);
    await set(p.t, "x:OAuthGrant", { destroy: [alicesGrants[0].id] }, alice);
    const admin = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    assert.ok((await clientRedirect(admin, p.client.redirectUri)).get("code"));
  }));

// --- refresh-token reuse and the family's absolute lifetime ---

async function introspect(p: Provider, token: string, client: TestClient = p.client) {
  const answer = await postForm(p.t, "/auth/introspect", { token, ...clientAuth(client) });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** A confidential client an administrator allowed to introspect every token. */
async function resourceServer(p: Provider): Promise<TestClient> {
  const created = await p.t.services.objects.create("oauth-client/confidential", {
    name: "Mail API",
    grantTypes: ["client_credentials"],
    ownerId: "b",
    resourceServer: true,
  }, "system");
  assert.equal(created.resourceServer, true);
  return { clientId: String(created.clientId), secret: String(created.secret), redirectUri: "" };
}

Deno.test("by default a rotated refresh token presented again revokes its whole family at once", () =>
  withProvider(async (p) => {
    const settings = await call(p.t, "x:OidcProvider/get", { ids: ["singleton"] });
    const [provider] = settings.list as Record<string, unknown>[];
    assert.equal(provider.refreshTokenReuseGrace, "0s");
    assert.equal(provider.refreshTokenAbsoluteExpiry, "90d");

    const tokens = await obtainTokens(p, OFFLINE);
    const rotated = await refresh(p.t, p.client, tokens.refresh_token!);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const replay = await refresh(p.t, p.client, tokens.refresh_token!);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, "invalid_grant");
    assert.equal(
      (await refresh(p.t, p.client, rotated.body.refresh_token as string)).body.error,
      "invalid_grant",
    );
  }, { type: "Public" }));

Deno.test("within a non-zero grace a replayed refresh token gets the same successor and nothing that lives longer", () =>
  withProvider(async (p) => {
    await p.t.services.objects.update(
      "oidc-provider",
      "singleton",
      { refreshTokenReuseGrace: "5m" },
      "system",
    );
    const tokens = await obtainTokens(p, OFFLINE);
    const first = await refresh(p.t, p.client, tokens.refresh_token!);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const api = await resourceServer(p);
    const firstExp = (await introspect(p, first.body.access_token as string, api)).exp as number;
    // Test seam: the rotation happened a minute ago, within the five-minute grace.
    onDatabase(p.t, "UPDATE oauth_grants SET rotated_at = rotated_at - ?", MINUTE);
    p.t.services.oauth.tokens.forget();

    const replay = await refresh(p.t, p.client, tokens.refresh_token!);
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.refresh_token, first.body.refresh_token, "the same successor");
    const replayed = await introspect(p, replay.body.access_token as string, api);
    assert.equal(replayed.active, true);
    assert.ok(
      (replayed.exp as number) <= firstExp - 59,
      `the replay's access token ends with the rotation's (${replayed.exp} vs ${firstExp})`,
    );
    assert.ok((replay.body.expires_in as number) <= 3600 - 59, `expires_in ${replay.body.expires_in}`);
    // The successor itself is still the family's one refresh token and rotates as usual.
    const next = await refresh(p.t, p.client, first.body.refresh_token as string);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.notEqual(next.body.refresh_token, first.body.refresh_token);
  }, { type: "Public" }));

Deno.test("a token family ends refreshTokenAbsoluteExpiry after its sign-in however often it is refreshed", () =>
  withProvider(async (p) => {
    await p.t.services.objects.update(
      "oidc-provider",
      "singleton",
      { refreshTokenAbsoluteExpiry: "1h" },
      "system",
    );
    const tokens = await obtainTokens(p, OFFLINE);
    const issued = await introspect(p, tokens.refresh_token!);
    assert.ok(
      (issued.exp as number) - (issued.iat as number) <= 3600,
      `exp ${issued.exp}, iat ${issued.iat}`,
    );
    const renewed = await refresh(p.t, p.client, tokens.refresh_token!);
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    const next = renewed.body.refresh_token as string;
    assert.ok((await introspect(p, next)).exp as number <= (issued.iat as number) + 3600 + 1);

    // Test seam: the family was made two hours ago (its refresh token itself is not expired).
    onDatabase(p.t, "UPDATE oauth_grants SET created_at = created_at - ?", 2 * HOUR);
    p.t.services.oauth.tokens.forget();
    const late = await refresh(p.t, p.client, next);
    assert.equal(late.status, 400, JSON.stringify(late.body));
    assert.equal(late.body.error, "invalid_grant");
  }));

Deno.test("refreshTokenAbsoluteExpiry refuses what is not a duration within bounds", () =>
  withProvider(async (p) => {
    for (const value of ["forever", "10s", -1, "4000d"]) {
      const result = await set(p.t, "x:OidcProvider", {
        update: { singleton: { refreshTokenAbsoluteExpiry: value } },
      });
      const error = (result.notUpdated as Record<string, Record<string, unknown>>).singleton;
      assert.equal(error.type, "invalidProperties", JSON.stringify(result));
      assert.deepEqual(error.properties, ["refreshTokenAbsoluteExpiry"]);
    }
  }));

// --- a loopback redirect URI with an impossible port ---

Deno.test("a loopback redirect URI with a port past 65535 is a 400 page, never a redirect or a 5xx", () =>
  withProvider(async (p) => {
    for (const port of ["65536", "99999"]) {
      const request = authorizationRequest(p.client, { redirect_uri: `http://127.0.0.1:${port}/callback` });
      assert.match(await assertErrorPage(await p.browser.request(request.url)), /not registered/);
    }
    const fine = authorizationRequest(p.client, { redirect_uri: "http://127.0.0.1:65535/callback" });
    await assertLoginPage(await p.browser.request(fine.url));
  }));

// --- introspection by another client ---

Deno.test("a confidential client introspecting another client's tokens learns only that they are inactive", () =>
  withProvider(async (p) => {
    const tokens = await obtainTokens(p, OFFLINE);
    const other = await registerClient(p.t.services, { name: "Another application" });
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      assert.deepEqual(await introspect(p, token, other), { active: false });
      assert.equal((await introspect(p, token)).active, true, "its own client still sees it");
    }
    const seen = await introspect(p, tokens.access_token, await resourceServer(p));
    assert.equal(seen.active, true);
    assert.equal(seen.client_id, p.client.clientId);
  }));

Deno.test("only an administrator makes a client a resource server; resourceServer must be a boolean", () =>
  withProvider(async (p) => {
    const alice = await createUser(p.t, "alice");
    const client = { "@type": "Confidential", name: "Alice's API", grantTypes: {}, resourceServer: true };
    const refused = await notCreated(p.t, "x:OAuthClient", client, alice);
    assert.equal(refused.type, "forbidden", JSON.stringify(refused));
    const invalid = await notCreated(p.t, "x:OAuthClient", { ...client, resourceServer: "yes" });
    assert.equal(invalid.type, "invalidProperties", JSON.stringify(invalid));
    assert.deepEqual(invalid.properties, ["resourceServer"]);
  }));

// --- a new signing key is published before it signs ---

async function jwks(t: TestApp): Promise<{ response: Response; keys: JWK[] }> {
  const response = await t.fetch("/auth/jwks.json");
  assert.equal(response.status, 200);
  return { response, keys: (await response.json()).keys };
}

/** Test seam: moves every signing key's times `ms` into the past, as if that much time had passed. */
function passKeyTime(t: TestApp, ms: number): void {
  onDatabase(
    t,
    `UPDATE oauth_signing_keys SET created_at = created_at - ?, activates_at = activates_at - ?,
       retired_at = retired_at - ?`,
    ms,
    ms,
    ms,
  );
  t.services.oauth.keys.reload();
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;

Deno.test("a rotated signing key is in the JWKS at once but signs only after every cached JWKS has expired", () =>
  withProvider(async (p) => {
    const before = await obtainTokens(p);
    const oldKid = kidOf(before.id_token!);
    const maxAge = Number(
      /max-age=(\d+)/.exec((await jwks(p.t)).response.headers.get("cache-control")!)?.[1],
    );
    assert.ok(maxAge > 0, "the JWKS says how long it may be cached");

    await p.t.services.oauth.rotateSigningKey();
    const published = await jwks(p.t);
    const newKid = published.keys.map((k) => k.kid).find((kid) => kid !== oldKid);
    assert.ok(newKid, "the next key is published right away");
    assert.equal(
      kidOf((await obtainTokens(p)).id_token!),
      oldKid,
      "the old key signs right after the rotation",
    );

    // A relying party's copy from just before the rotation is good until max-age: still the old key.
    passKeyTime(p.t, maxAge * 1000);
    assert.equal(kidOf((await obtainTokens(p)).id_token!), oldKid, "the old key signs for max-age");

    passKeyTime(p.t, maxAge * 1000);
    const after = await obtainTokens(p);
    assert.equal(kidOf(after.id_token!), newKid, "the new key signs once every cached copy has it");
    // The copy fetched right after the rotation verifies it, and the old key stays published.
    await jwtVerify(after.id_token!, createLocalJWKSet({ keys: published.keys }), { issuer: ISSUER });
    assert.ok((await jwks(p.t)).keys.some((k) => k.kid === oldKid));
  }));

Deno.test("the rotate action says when the new key starts signing", () =>
  withProvider(async (p) => {
    const result = await call(p.t, "x:Action/set", {
      create: { r: { "@type": "RotateSigningKey" } },
    });
    assert.match(JSON.stringify(result.created), /published now and signing from \d{4}-\d\d-\d\dT/);
  }));
