/**
 * The authorization endpoint against the security checklists (RFC 9700, RFC 6749 §4.1, OIDC Core
 * §3.1.2): redirect URI matching, errors that must not be redirected, state and iss, 303 redirects,
 * page headers, login CSRF, PKCE, response types, prompt and max_age, and the nonce.
 */
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { registerClient } from "./oauth_helpers.ts";
import {
  assertErrorPage,
  assertErrorRedirect,
  assertLoginPage,
  authorizationRequest,
  clientRedirect,
  ISSUER,
  newBrowser,
  obtainTokens,
  redeemCode,
  withProvider,
} from "./oauth_security_helpers.ts";

/** 2000 characters: reserved ones of URLs and forms, an escape, non-ASCII and an astral character. */
const LONG_STATE = "&=+/?#%41 é日本🙂<>\"';".repeat(100);

/** Asserts the headers every provider page must carry against framing and injected scripts. */
function assertPageHeaders(response: Response): void {
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  const csp = response.headers.get("content-security-policy") ?? "";
  assert.match(csp, /frame-ancestors 'none'/, csp);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, csp);
  assert.equal(response.headers.get("x-frame-options"), "DENY");
}

Deno.test("authorize shows an error page, never a redirect, for a redirect_uri of another path, host or query", () =>
  withProvider(async ({ t, client }) => {
    for (
      const wrong of [
        "http://127.0.0.1/callback/other",
        "http://127.0.0.1/Callback",
        "http://localhost/callback",
        "http://evil.example/callback",
        "https://127.0.0.1/callback",
        "http://127.0.0.1/callback?next=x",
        "http://user@127.0.0.1/callback",
        "not a url",
      ]
    ) {
      const response = await t.fetch(authorizationRequest(client, { redirect_uri: wrong }).url);
      const html = await assertErrorPage(response);
      assert.match(html, /Redirect URI not registered/, wrong);
    }
  }));

Deno.test("a loopback redirect_uri may differ only in its port: a fragment, credentials, dot segments or another spelling are refused", () =>
  withProvider(async ({ t, client }) => {
    const accepted: string[] = [];
    for (
      const wrong of [
        "http://127.0.0.1/callback#x",
        "http://127.0.0.1:53123/callback#",
        "http://127.0.0.1/callback?",
        "http://:secret@127.0.0.1/callback",
        "http://127.0.0.1/x/../callback",
        "http://127.1/callback",
        "http://0x7f.0.0.1/callback",
      ]
    ) {
      const response = await t.fetch(authorizationRequest(client, { redirect_uri: wrong }).url);
      await response.body?.cancel();
      if (response.status !== 400 || response.headers.has("location")) accepted.push(wrong);
    }
    // RFC 6749 §3.1.2 (no fragment), RFC 9700 §4.1.3 (exact string match), RFC 8252 §7.3 (port only).
    assert.deepEqual(accepted, []);
  }));

Deno.test("authorize accepts any port on a loopback redirect_uri (RFC 8252 §7.3) but not another path", () =>
  withProvider(async ({ t, client, browser }) => {
    const withPort = "http://127.0.0.1:53123/callback";
    const request = authorizationRequest(client, { redirect_uri: withPort });
    const redirect = await browser.authorize(request.url);
    assert.equal(redirect.origin + redirect.pathname, withPort);
    assert.ok(redirect.searchParams.get("code"));
    const refused = await t.fetch(
      authorizationRequest(client, { redirect_uri: "http://127.0.0.1:53123/other" }).url,
    );
    await assertErrorPage(refused);
  }));

Deno.test("authorize shows an error page, never a redirect, for an unknown or missing client_id", () =>
  withProvider(async ({ t, client }) => {
    const unknown = await t.fetch(authorizationRequest(client, { client_id: "no-such-client" }).url);
    assert.match(await assertErrorPage(unknown), /not registered/);
    const missing = await t.fetch(authorizationRequest(client, { client_id: undefined }).url);
    assert.match(await assertErrorPage(missing), /client_id/);
  }));

Deno.test("state comes back byte for byte and iss is the issuer in every authorization response", () =>
  withProvider(async ({ t, client, browser }) => {
    assert.equal(LONG_STATE.length, 2000);
    const metadata = await (await t.fetch("/.well-known/openid-configuration")).json();
    assert.equal(metadata.issuer, ISSUER);
    // An error before anyone signs in: prompt=none without a session.
    const none = await t.fetch(authorizationRequest(client, { state: LONG_STATE, prompt: "none" }).url);
    const failed = await assertErrorRedirect(none, client.redirectUri, "login_required");
    assert.equal(failed.get("state"), LONG_STATE);
    // A refused request: an unsupported response type.
    const token = await t.fetch(
      authorizationRequest(client, { state: LONG_STATE, response_type: "token" }).url,
    );
    const unsupported = await assertErrorRedirect(token, client.redirectUri, "unsupported_response_type");
    assert.equal(unsupported.get("state"), LONG_STATE);
    // The user denies consent.
    const denied = await browser.authorize(authorizationRequest(client, { state: LONG_STATE }).url, {
      consent: "deny",
    });
    assert.equal(denied.searchParams.get("error"), "access_denied");
    assert.equal(denied.searchParams.get("state"), LONG_STATE);
    assert.equal(denied.searchParams.get("iss"), ISSUER);
    // Success.
    const approved = await browser.authorize(authorizationRequest(client, { state: LONG_STATE }).url);
    assert.ok(approved.searchParams.get("code"));
    assert.equal(approved.searchParams.get("state"), LONG_STATE);
    assert.equal(approved.searchParams.get("iss"), ISSUER);
  }));

Deno.test("every redirect to the client is a 303, and token responses, errors included, are no-store", () =>
  withProvider(async ({ t, client, browser }) => {
    // After the sign-in form, then after the consent form.
    const first = authorizationRequest(client);
    const login = await browser.request(first.url);
    const consent = await browser.submit(await assertLoginPage(login), {
      username: "admin@example.org",
      password: "admin password for tests",
    });
    const consentHtml = await consent.text();
    assert.equal(consent.status, 200, consentHtml.slice(0, 300));
    const approved = await browser.submit(consentHtml, { decision: "approve" });
    const code = (await clientRedirect(approved, client.redirectUri)).get("code")!;
    // Straight from the authorization endpoint (session and consent), by GET and by POST.
    const direct = await browser.request(authorizationRequest(client).url);
    assert.ok((await clientRedirect(direct, client.redirectUri)).get("code"));
    const posted = await browser.request(
      "/auth/authorize",
      Object.fromEntries(new URL(authorizationRequest(client).url, ISSUER).searchParams),
    );
    assert.ok((await clientRedirect(posted, client.redirectUri)).get("code"));
    // An error.
    const error = await t.fetch(authorizationRequest(client, { response_type: undefined }).url);
    await assertErrorRedirect(error, client.redirectUri, "invalid_request");

    const tokens = await redeemCode(t, client, code, first.verifier);
    assert.equal(tokens.status, 200);
    assert.equal(tokens.headers.get("cache-control"), "no-store");
    const again = await redeemCode(t, client, code, first.verifier);
    assert.equal(again.status, 400);
    assert.equal(again.headers.get("cache-control"), "no-store");
  }));

Deno.test("provider pages carry a CSP with frame-ancestors 'none' and no unsafe-inline, and X-Frame-Options DENY", () =>
  withProvider(async ({ t, client, browser }) => {
    const login = await browser.request(authorizationRequest(client).url);
    assertPageHeaders(login);
    const consent = await browser.submit(await login.text(), {
      username: "admin@example.org",
      password: "admin password for tests",
    });
    assertPageHeaders(consent);
    await consent.body?.cancel();
    const failed = await browser.request(authorizationRequest(client, { client_id: "nobody" }).url);
    assertPageHeaders(failed);
    await failed.body?.cancel();
    for (const path of ["/auth/device", "/auth/logout"]) {
      const response = await browser.request(path);
      assert.equal(response.status, 200, path);
      assertPageHeaders(response);
      await response.body?.cancel();
    }
    const other = newBrowser(t);
    const page = await other.request(authorizationRequest(client).url);
    const again = await other.submit(await page.text(), { username: "x", password: "y" });
    assert.match(await again.text(), /wrong/);
    assertPageHeaders(again);
  }));

Deno.test("a login form posted with a wrong csrf or from another browser signs nobody in", () =>
  withProvider(async ({ t, client, browser }) => {
    const request = authorizationRequest(client);
    const html = await assertLoginPage(await browser.request(request.url));
    const credentials = { username: "admin@example.org", password: "admin password for tests" };
    const attempts = [
      { who: "wrong csrf", browser, values: { ...credentials, csrf: "A".repeat(43) } },
      { who: "no browser cookie", browser: newBrowser(t), values: credentials },
      { who: "another browser", browser: newBrowser(t), values: credentials, visit: true },
    ];
    for (const attempt of attempts) {
      // The other browser gets its own binding cookie by starting a flow of its own.
      if (attempt.visit) {
        await (await attempt.browser.request(authorizationRequest(client).url)).body?.cancel();
      }
      const response = await attempt.browser.submit(html, attempt.values);
      await assertErrorPage(response);
      assert.ok(!attempt.browser.cookies.has("postern_session"), attempt.who);
    }
    // The person's own browser is still not signed in.
    const none = await browser.request(authorizationRequest(client, { prompt: "none" }).url);
    await assertErrorRedirect(none, client.redirectUri, "login_required");
  }));

Deno.test("authorize refuses PKCE plain and a missing code_challenge with invalid_request", () =>
  withProvider(async ({ t, client }) => {
    for (
      const params of [
        { code_challenge_method: "plain" },
        { code_challenge_method: undefined },
        { code_challenge: undefined },
        { code_challenge: undefined, code_challenge_method: undefined },
        { code_challenge: "too-short" },
      ]
    ) {
      const response = await t.fetch(authorizationRequest(client, params).url);
      await assertErrorRedirect(response, client.redirectUri, "invalid_request");
    }
  }));

Deno.test("a token request without code_verifier is invalid_request, with a wrong one invalid_grant", () =>
  withProvider(async (p) => {
    const request = authorizationRequest(p.client);
    const code = (await p.browser.authorize(request.url)).searchParams.get("code")!;
    const missing = await redeemCode(p.t, p.client, code, undefined);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, "invalid_request");
    const wrong = await redeemCode(p.t, p.client, code, "w".repeat(43));
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, "invalid_grant");
  }));

Deno.test("authorize answers invalid_request without response_type and unsupported_response_type for token", () =>
  withProvider(async ({ t, client }) => {
    const missing = await t.fetch(authorizationRequest(client, { response_type: undefined }).url);
    await assertErrorRedirect(missing, client.redirectUri, "invalid_request");
    for (const type of ["token", "id_token", "code id_token", "code token"]) {
      const response = await t.fetch(authorizationRequest(client, { response_type: type }).url);
      await assertErrorRedirect(response, client.redirectUri, "unsupported_response_type");
    }
  }));

Deno.test("authorize ignores unknown parameters", () =>
  withProvider(async ({ browser, client }) => {
    const request = authorizationRequest(client, { foo: "bar", ui_locales: "fr", acr_values: "x" });
    const redirect = await browser.authorize(request.url);
    assert.ok(redirect.searchParams.get("code"), redirect.href);
    assert.equal(redirect.searchParams.get("foo"), null);
  }));

Deno.test("prompt=none answers login_required without a session and consent_required before consent", () =>
  withProvider(async ({ t, client, browser }) => {
    const anonymous = await browser.request(authorizationRequest(client, { prompt: "none" }).url);
    await assertErrorRedirect(anonymous, client.redirectUri, "login_required");
    // Sign in, then deny: a session exists but nothing was approved.
    const other = await registerClient(t.services, { name: "Other application" });
    await browser.authorize(authorizationRequest(other).url, { consent: "deny" });
    assert.ok(browser.cookies.has("postern_session"));
    const noConsent = await browser.request(authorizationRequest(client, { prompt: "none" }).url);
    await assertErrorRedirect(noConsent, client.redirectUri, "consent_required");
  }));

Deno.test("prompt=login and max_age=0 show the sign-in page even with a session; prompt=none with max_age=0 is login_required", () =>
  withProvider(async ({ client, browser }) => {
    await browser.authorize(authorizationRequest(client).url);
    for (const params of [{ prompt: "login" }, { max_age: "0" }]) {
      // A moment later, so max_age=0 cannot be met by a sign-in in the same millisecond.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const response = await browser.request(authorizationRequest(client, params).url);
      await assertLoginPage(response);
    }
    // Without a page to show, a session too old for max_age is no session (OIDC Core §3.1.2.1).
    const none = await browser.request(authorizationRequest(client, { prompt: "none", max_age: "0" }).url);
    await assertErrorRedirect(none, client.redirectUri, "login_required");
  }));

Deno.test("a session with remembered consent gets a code without any page", () =>
  withProvider(async ({ client, browser }) => {
    await browser.authorize(authorizationRequest(client, { scope: "openid email" }).url);
    const response = await browser.request(authorizationRequest(client, { scope: "openid email" }).url);
    const params = await clientRedirect(response, client.redirectUri);
    assert.ok(params.get("code"));
    assert.equal(params.get("state"), "state-1");
  }));

Deno.test("a 1000-character nonce is returned in the ID token", () =>
  withProvider(async (p) => {
    const nonce = "n0-._~".repeat(167).slice(0, 1000);
    const tokens = await obtainTokens(p, { nonce });
    const claims = decodeJwt(tokens.id_token!);
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.aud, p.client.clientId);
  }));
