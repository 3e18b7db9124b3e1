/**
 * The provider's sign-in and sign-out against the security checklists: the failed-attempt limit of a
 * flow (authCodeMaxAttempts), login throttling shared with every other authentication, dynamic
 * registration (RFC 7591) and RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { decodeProtectedHeader } from "jose";
import { ADMIN_PASSWORD, basic, type TestApp } from "./helpers.ts";
import { ADMIN, type TestBrowser } from "./oauth_helpers.ts";
import {
  assertErrorPage,
  assertErrorRedirect,
  assertLoginPage,
  authorizationRequest,
  clientRedirect,
  newBrowser,
  obtainTokens,
  type Provider,
  withProvider,
} from "./oauth_security_helpers.ts";

const SIGNED_OUT = "http://127.0.0.1/signed-out";

Deno.test("three wrong passwords void a sign-in: then even the right one is refused; a new authorization starts fresh", () =>
  withProvider(async ({ client, browser }) => {
    const request = authorizationRequest(client);
    const form = await assertLoginPage(await browser.request(request.url));
    let html = form;
    for (const left of [2, 1]) {
      const response = await browser.submit(html, { username: ADMIN.username, password: "wrong password" });
      html = await assertLoginPage(response);
      assert.match(html, /wrong/);
      assert.match(html, new RegExp(`${left} attempts? left`));
    }
    const third = await browser.submit(html, { username: ADMIN.username, password: "wrong password" });
    assert.match(await assertErrorPage(third), /Too many failed sign-ins/);
    const right = await browser.submit(form, ADMIN);
    await assertErrorPage(right);
    assert.ok(!browser.cookies.has("postern_session"));

    const fresh = await browser.authorize(authorizationRequest(client).url);
    assert.ok(fresh.searchParams.get("code"), fresh.href);
  }));

/** Leaves login throttling out of a test (it is tested on its own): only the flow's limit is at work. */
async function withoutThrottling(p: Provider): Promise<void> {
  await p.t.services.objects.update(
    "authentication",
    "singleton",
    { failedLoginFreeAttempts: 1000 },
    "system",
  );
}

Deno.test("wrong passwords sent at once in one sign-in all count: the flow is void and the right password is refused", () =>
  withProvider(async (p) => {
    await withoutThrottling(p);
    const { client, browser } = p;
    const form = await assertLoginPage(await browser.request(authorizationRequest(client).url));
    const wrong = { username: ADMIN.username, password: "wrong password" };
    const answers = await Promise.all(Array.from({ length: 8 }, () => browser.submit(form, wrong)));
    const pages = await Promise.all(answers.map(async (r) => ({ status: r.status, html: await r.text() })));
    const again = pages.filter((page) => page.status === 200);
    assert.deepEqual(
      again.map((page) => /(\d) attempts? left/.exec(page.html)?.[1]).sort(),
      ["1", "2"],
      "only the first two failures of three allowed may offer another try",
    );
    const stopped = pages.filter((page) => page.status === 400);
    assert.equal(stopped.length, 6);
    for (const page of stopped) assert.match(page.html, /Too many failed sign-ins|Sign-in expired/);
    assert.ok(stopped.some((page) => /Too many failed sign-ins/.test(page.html)));

    const right = await browser.submit(form, ADMIN);
    assert.match(await assertErrorPage(right), /start again/);
    assert.ok(!browser.cookies.has("postern_session"), "the right password signed in on a void flow");
    const fresh = await browser.authorize(authorizationRequest(client).url);
    assert.ok(fresh.searchParams.get("code"), fresh.href);
  }));

Deno.test("authCodeMaxAttempts=5 allows four wrong passwords before the right one, and the fifth voids the flow", () =>
  withProvider(async (p) => {
    await withoutThrottling(p);
    await p.t.services.objects.update("oidc-provider", "singleton", { authCodeMaxAttempts: 5 }, "system");
    const wrong = { username: ADMIN.username, password: "wrong password" };
    const fourWrong = async (browser: TestBrowser) => {
      let html = await assertLoginPage(await browser.request(authorizationRequest(p.client).url));
      for (const left of [4, 3, 2, 1]) {
        html = await assertLoginPage(await browser.submit(html, wrong));
        assert.match(html, new RegExp(`\\b${left} attempts? left`));
      }
      return html;
    };
    const signedIn = await p.browser.submit(await fourWrong(p.browser), ADMIN);
    assert.match(await signedIn.text(), /name="decision"/, "the consent page after the right password");
    assert.ok(p.browser.cookies.has("postern_session"));

    const other = newBrowser(p.t);
    const fifth = await other.submit(await fourWrong(other), wrong);
    assert.match(await assertErrorPage(fifth), /Too many failed sign-ins/);
    assert.ok(!other.cookies.has("postern_session"));
  }));

Deno.test("sign-ins on the provider's page are rate-limited like every authentication, with a 429 page", () =>
  withProvider(async ({ t, client }) => {
    await t.services.objects.update("authentication", "singleton", { failedLoginFreeAttempts: 2 }, "system");
    const attempt = async (password: string) => {
      const browser = newBrowser(t);
      const form = await assertLoginPage(await browser.request(authorizationRequest(client).url));
      return { browser, response: await browser.submit(form, { username: ADMIN.username, password }) };
    };
    let limited: Response | undefined;
    for (let i = 0; i < 6 && !limited; i++) {
      const { response } = await attempt(`wrong password ${i}`);
      if (response.status === 429) limited = response;
      else assert.match(await assertLoginPage(response), /wrong/);
    }
    assert.ok(limited, "no 429 after 6 failed sign-ins");
    const text = await limited.text();
    assert.match(text, /Too many failed sign-ins/);
    assert.match(limited.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(limited.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
    // The right password waits too, here and over Basic.
    const { browser, response } = await attempt(ADMIN_PASSWORD);
    assert.equal(response.status, 429);
    await response.body?.cancel();
    assert.ok(!browser.cookies.has("postern_session"));
    const viaBasic = await t.fetch("/api/account", {
      headers: { authorization: basic(ADMIN.username, "x") },
    });
    assert.equal(viaBasic.status, 429);
    await viaBasic.body?.cancel();
  }));

Deno.test("dynamic registration is refused by default with a 403 JSON error", () =>
  withProvider(async ({ t }) => {
    const response = await t.fetch("/auth/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://127.0.0.1/cb"], token_endpoint_auth_method: "none" }),
    });
    assert.equal(response.status, 403);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(typeof (await response.json()).error, "string");
    const metadata = await (await t.fetch("/.well-known/openid-configuration")).json();
    assert.equal(metadata.registration_endpoint, undefined);
  }));

Deno.test("once allowed, dynamic registration makes a public client that completes a code flow", () =>
  withProvider(async ({ t, browser }) => {
    await t.services.objects.update(
      "oidc-provider",
      "singleton",
      { allowDynamicRegistration: true },
      "system",
    );
    const response = await t.fetch("/auth/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "Registered app",
        redirect_uris: ["http://127.0.0.1/registered"],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code"],
        scope: "openid email",
      }),
    });
    const registered = await response.json();
    assert.equal(response.status, 201, JSON.stringify(registered));
    assert.equal(registered.client_secret, undefined);
    const client = { clientId: registered.client_id, redirectUri: "http://127.0.0.1/registered" };
    const tokens = await obtainTokens({ t, client, browser }, { scope: "openid email" });
    assert.equal(
      await (await t.fetch("/auth/userinfo", {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      })).status,
      200,
    );
  }));

/** Signs in through a code flow and returns the ID token. */
async function signedIn(p: Provider): Promise<string> {
  const tokens = await obtainTokens(p);
  assert.ok(p.browser.cookies.has("postern_session"));
  return tokens.id_token!;
}

const LOGOUT_CLIENT = { postLogoutRedirectUris: [SIGNED_OUT] };

Deno.test("logout with a valid id_token_hint and a registered post_logout_redirect_uri redirects there and ends the session", () =>
  withProvider(async (p) => {
    const idToken = await signedIn(p);
    const session = p.browser.cookies.get("postern_session")!;
    const query = new URLSearchParams({
      id_token_hint: idToken,
      post_logout_redirect_uri: SIGNED_OUT,
      state: "bye & see you",
    });
    const response = await p.browser.request(`/auth/logout?${query}`);
    const params = await clientRedirect(response, SIGNED_OUT);
    assert.equal(params.get("state"), "bye & see you");
    assert.ok(!p.browser.cookies.has("postern_session"));
    // Even the old cookie, sent again, is no longer a session.
    p.browser.cookies.set("postern_session", session);
    const none = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    await assertErrorRedirect(none, p.client.redirectUri, "login_required");
  }, LOGOUT_CLIENT));

Deno.test("logout to an unregistered post_logout_redirect_uri is an error page and keeps the session", () =>
  withProvider(async (p) => {
    const idToken = await signedIn(p);
    for (const target of ["http://evil.example/signed-out", `${SIGNED_OUT}/x`, `${SIGNED_OUT}?a=1`]) {
      const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: target });
      await assertErrorPage(await p.browser.request(`/auth/logout?${query}`));
    }
    const none = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    assert.ok((await clientRedirect(none, p.client.redirectUri)).get("code"));
  }, LOGOUT_CLIENT));

Deno.test("logout without an id_token_hint asks for confirmation before signing out", () =>
  withProvider(async (p) => {
    await signedIn(p);
    const response = await p.browser.request("/auth/logout");
    const html = await response.text();
    assert.equal(response.status, 200);
    assert.match(html, /Sign out/);
    assert.match(html, /name="csrf"/);
    const still = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    assert.ok((await clientRedirect(still, p.client.redirectUri)).get("code"));
    const confirmed = await p.browser.submit(html, { decision: "logout" });
    assert.equal(confirmed.status, 200);
    assert.match(await confirmed.text(), /signed out/i);
    const none = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    await assertErrorRedirect(none, p.client.redirectUri, "login_required");
  }, LOGOUT_CLIENT));

Deno.test("a confirmed logout posting a post_logout_redirect_uri not registered is an error page and keeps the session", () =>
  withProvider(async (p) => {
    await signedIn(p);
    const query = new URLSearchParams({ client_id: p.client.clientId, post_logout_redirect_uri: SIGNED_OUT });
    const html = await (await p.browser.request(`/auth/logout?${query}`)).text();
    assert.match(html, /name="post_logout_redirect_uri"/);
    const forged = await p.browser.submit(html, {
      decision: "logout",
      post_logout_redirect_uri: "http://evil.example/signed-out",
    });
    assert.match(await assertErrorPage(forged), /not registered/);
    const still = await p.browser.request(authorizationRequest(p.client, { prompt: "none" }).url);
    assert.ok((await clientRedirect(still, p.client.redirectUri)).get("code"), "still signed in");
  }, LOGOUT_CLIENT));

Deno.test("a confirmed logout asked for by a client redirects to its post_logout_redirect_uri with the state", () =>
  withProvider(async (p) => {
    await signedIn(p);
    const query = new URLSearchParams({
      client_id: p.client.clientId,
      post_logout_redirect_uri: SIGNED_OUT,
      state: "bye & see you",
    });
    const html = await (await p.browser.request(`/auth/logout?${query}`)).text();
    const confirmed = await p.browser.submit(html, { decision: "logout" });
    assert.equal((await clientRedirect(confirmed, SIGNED_OUT)).get("state"), "bye & see you");
    assert.ok(!p.browser.cookies.has("postern_session"));
  }, LOGOUT_CLIENT));

/** Test seam: moves every retired signing key's retirement `ms` into the past, as if time had passed. */
function ageRetiredKeys(t: TestApp, ms: number): void {
  const db = new DatabaseSync(`${t.dataDir}/postern.db`);
  try {
    db.prepare("UPDATE oauth_signing_keys SET retired_at = ? WHERE retired_at IS NOT NULL").run(
      Date.now() - ms,
    );
  } finally {
    db.close();
  }
  t.services.oauth.keys.reload();
}

async function publishedKids(t: TestApp): Promise<(string | undefined)[]> {
  return (await (await t.fetch("/auth/jwks.json")).json()).keys.map((k: { kid?: string }) => k.kid);
}

const HOUR = 3_600_000;

Deno.test("after a key rotation, an ID token older than the ID and access token lifetimes still works as a logout hint", () =>
  withProvider(async (p) => {
    const idToken = await signedIn(p);
    await p.t.services.oauth.rotateSigningKey();
    // The rotation was two hours ago: past idTokenExpiry (15m) and accessTokenExpiry (1h), well within
    // refreshTokenExpiry (30d), for which the RP may still be signed in with this ID token.
    ageRetiredKeys(p.t, 2 * HOUR);
    assert.ok((await publishedKids(p.t)).includes(decodeProtectedHeader(idToken).kid));
    const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT });
    await clientRedirect(await p.browser.request(`/auth/logout?${query}`), SIGNED_OUT);
    assert.ok(!p.browser.cookies.has("postern_session"));
  }, LOGOUT_CLIENT));

Deno.test("a key retired longer than refreshTokenExpiry ago leaves the JWKS, and a hint it signed is an error page", () =>
  withProvider(async (p) => {
    const idToken = await signedIn(p);
    await p.t.services.oauth.rotateSigningKey();
    ageRetiredKeys(p.t, 31 * 24 * HOUR);
    assert.ok(!(await publishedKids(p.t)).includes(decodeProtectedHeader(idToken).kid));
    const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT });
    assert.match(
      await assertErrorPage(await p.browser.request(`/auth/logout?${query}`)),
      /not issued by this server/,
    );
    assert.ok(p.browser.cookies.has("postern_session"), "nobody was signed out");
  }, LOGOUT_CLIENT));
