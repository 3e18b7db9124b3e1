/**
 * The provider's sign-in, consent and device pages in a real headless Chromium: a person's path
 * through them, with the pages' Content Security Policy and stylesheet in force, ending at a client's
 * loopback redirect URI that the browser really reaches.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import {
  browserTest,
  type CallbackListener,
  launchChromium,
  type SharedFixture,
  startCallbackListener,
  watchCsp,
} from "./browser_helpers.ts";
import { basic, type ServerProcess, startServerProcess } from "./helpers.ts";
import { ADMIN, pkce, registerClientWithCli, type TestClient } from "./oauth_helpers.ts";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** The accent colour of the pages' stylesheet in the light scheme (--accent: #2449a8). */
const ACCENT = "rgb(36, 73, 168)";

/** One server, one callback listener, one browser and a client per scenario, for the whole file. */
interface Fixture extends SharedFixture {
  server: ServerProcess;
  /** The issuer the discovery document names, which `iss` must equal (RFC 9207). */
  issuer: string;
  callbacks: CallbackListener;
  browser: Browser;
  /** Asks for consent. */
  consenting: TestClient;
  /** Already trusted: no consent page, so the sign-in form's post ends in the redirect. */
  trusted: TestClient;
  /** Asks for consent; the person denies it. */
  denied: TestClient;
  /** A public client on a device. */
  device: TestClient;
  /** Trusted, and registered to have the browser sent back after signing out. */
  signingOut: TestClient;
  /** signingOut's post_logout_redirect_uri. */
  signedOutUri: string;
}

async function openFixture(): Promise<Fixture> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-browser-" });
  const callbacks = startCallbackListener();
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.stop();
    await callbacks.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  };
  try {
    server = await startServerProcess(dataDir);
    // No two clients share a name: the one whose pages are read is "Test application".
    const withCallback = (path: string, name: string, requireConsent = true) =>
      registerClientWithCli(dataDir, { name, redirectUris: [`${callbacks.origin}${path}`], requireConsent });
    const signedOutUri = `${callbacks.origin}/callback/signed-out`;
    const [consenting, trusted, denied, device, signingOut] = await Promise.all([
      withCallback("/callback/consenting", "Test application"),
      withCallback("/callback/trusted", "Trusted application", false),
      withCallback("/callback/denied", "Denied application"),
      registerClientWithCli(dataDir, {
        name: "Device application",
        type: "Public",
        grantTypes: [DEVICE_GRANT],
      }),
      registerClientWithCli(dataDir, {
        name: "Signing-out application",
        redirectUris: [`${callbacks.origin}/callback/signing-out`],
        postLogoutRedirectUris: [signedOutUri],
        requireConsent: false,
      }),
    ]);
    browser = await launchChromium();
    const metadata = await fetch(`${server.url}/.well-known/openid-configuration`);
    assert.equal(metadata.status, 200);
    const { issuer } = await metadata.json();
    const started = server;
    return {
      server,
      issuer,
      callbacks,
      browser,
      consenting,
      trusted,
      denied,
      device,
      signingOut,
      signedOutUri,
      close,
      abandon() {
        void started.stop(); // sends SIGTERM before its first await
        try {
          Deno.removeSync(dataDir, { recursive: true });
        } catch { /* already gone */ }
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

const test = browserTest(openFixture);

// Code run in the page is passed as strings: Deno type-checks this file without the DOM library.

/** A fresh context and page (light scheme, short timeouts); fails when the console reported a CSP problem. */
async function inPage(
  fixture: Fixture,
  options: BrowserContextOptions,
  fn: (page: Page) => Promise<void>,
): Promise<void> {
  const context = await fixture.browser.newContext({ colorScheme: "light", ...options });
  try {
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const csp = watchCsp(page);
    await fn(page);
    assert.deepEqual(csp, [], "the console reported Content Security Policy problems");
  } finally {
    await context.close();
  }
}

/** The authorization request a web app sends the browser with (PKCE S256, state, nonce). */
function authorizationRequest(fixture: Fixture, client: TestClient, options: { prompt?: string } = {}) {
  const { verifier, challenge } = pkce();
  const state = crypto.randomUUID();
  const nonce = crypto.randomUUID();
  const url = new URL(`${fixture.server.url}/auth/authorize`);
  url.search = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: "code",
    scope: "openid profile email",
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...(options.prompt ? { prompt: options.prompt } : {}),
  }).toString();
  return { url: url.href, verifier, state, nonce };
}

async function signIn(page: Page, password = ADMIN.password): Promise<void> {
  await page.getByLabel("Email address or username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Waits until the browser shows the client's callback; returns what the client received there. */
async function callbackQuery(fixture: Fixture, page: Page, client: TestClient): Promise<URLSearchParams> {
  const path = new URL(client.redirectUri).pathname;
  await page.waitForURL((url) => url.pathname === path);
  assert.equal(await page.locator("body").innerText(), "done");
  const query = fixture.callbacks.lastQuery(path);
  assert.ok(query, `the client's listener received no request at ${path}`);
  assert.equal(new URL(page.url()).search, `?${query}`);
  return query;
}

function idTokenClaims(idToken: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(decodeBase64Url(idToken.split(".")[1])));
}

function decodeBase64Url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64 + "=".repeat((4 - base64.length % 4) % 4)), (c) => c.charCodeAt(0));
}

test("a browser signs in, allows the consent page and brings the client a code that works", async (fixture) => {
  const client = fixture.consenting;
  const request = authorizationRequest(fixture, client);
  await inPage(fixture, {}, async (page) => {
    await page.goto(request.url);
    assert.equal(await page.title(), "Sign in · Postern");
    assert.equal(await page.locator("label[for=username]").innerText(), "Email address or username");
    assert.equal(await page.locator("label[for=password]").innerText(), "Password");
    const username = page.getByLabel("Email address or username");
    const password = page.getByLabel("Password");
    assert.equal(await username.getAttribute("autocomplete"), "username");
    assert.equal(await password.getAttribute("autocomplete"), "current-password");
    assert.equal(await password.getAttribute("type"), "password");
    assert.match(await page.locator(".lead").innerText(), /Sign in to continue to Test application/);
    // The hashed stylesheet applies: the button wears the accent, not the browser's default grey.
    const background = await page.evaluate<string>(
      `getComputedStyle(document.querySelector("button[type=submit]")).backgroundColor`,
    );
    assert.equal(background, ACCENT);

    await signIn(page);
    await page.waitForURL(`${fixture.server.url}/auth/login`);
    assert.equal(await page.title(), "Allow Test application? · Postern");
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Allow access?");
    assert.match(await page.locator(".lead").innerText(), /Test application wants to access your account/);
    assert.match(await page.locator(".lead").innerText(), new RegExp(ADMIN.username));
    const scopes = await page.locator("ul.scopes li").allInnerTexts();
    assert.deepEqual(scopes.map((s) => s.replace(/\s+/g, " ").trim()), [
      "Confirm who you are (OpenID Connect sign-in) openid",
      "Your name and user name profile",
      "Your email address email",
    ]);
    await page.getByRole("button", { name: "Allow" }).click();

    const query = await callbackQuery(fixture, page, client);
    assert.equal(query.get("state"), request.state);
    assert.equal(query.get("iss"), fixture.issuer);
    const code = query.get("code");
    assert.ok(code, `no code in ${query}`);

    const token = await fetch(`${fixture.server.url}/auth/token`, {
      method: "POST",
      headers: { authorization: basic(client.clientId, client.secret!) },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: client.redirectUri,
        code_verifier: request.verifier,
      }),
    });
    const tokens = await token.json();
    assert.equal(token.status, 200, JSON.stringify(tokens));
    assert.equal(tokens.token_type, "Bearer");
    assert.ok(tokens.access_token);
    assert.equal(idTokenClaims(tokens.id_token).nonce, request.nonce);
  });
});

test("a wrong password is shown in the page with the attempts left, and the right one then continues", async (fixture) => {
  const client = fixture.trusted;
  const request = authorizationRequest(fixture, client);
  await inPage(fixture, {}, async (page) => {
    await page.goto(request.url);
    await signIn(page, "not the password");
    const alert = page.getByRole("alert");
    assert.match(await alert.innerText(), /The user name or password is wrong\./);
    assert.match(await alert.innerText(), /\d+ attempts? left before you need to start signing in again/);
    assert.equal(await page.getByLabel("Email address or username").inputValue(), ADMIN.username);
    assert.equal(await page.getByLabel("Password").inputValue(), "");
    assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");

    // A trusted client shows no consent page: the sign-in's post itself ends at the client.
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    const query = await callbackQuery(fixture, page, client);
    assert.equal(query.get("state"), request.state);
    assert.ok(query.get("code"), `no code in ${query}`);
  });
});

test("denying on the consent page sends access_denied and the state back to the client", async (fixture) => {
  const client = fixture.denied;
  const request = authorizationRequest(fixture, client);
  await inPage(fixture, {}, async (page) => {
    await page.goto(request.url);
    await signIn(page);
    await page.getByRole("button", { name: "Deny" }).click();
    const query = await callbackQuery(fixture, page, client);
    assert.equal(query.get("error"), "access_denied");
    assert.equal(query.get("state"), request.state);
    assert.equal(query.get("iss"), fixture.issuer);
    assert.equal(query.get("code"), null);
  });
});

test("a device is connected by typing its code, signing in and allowing it, and then gets tokens", async (fixture) => {
  const client = fixture.device;
  const authorization = await fetch(`${fixture.server.url}/auth/device`, {
    method: "POST",
    body: new URLSearchParams({ client_id: client.clientId, scope: "openid email" }),
  });
  const device = await authorization.json();
  assert.equal(authorization.status, 200, JSON.stringify(device));
  await inPage(fixture, {}, async (page) => {
    await page.goto(device.verification_uri);
    assert.equal(await page.title(), "Connect a device · Postern");
    await page.getByLabel("Code").fill(device.user_code);
    await page.getByRole("button", { name: "Continue" }).click();
    await signIn(page);
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Connect Device application?");
    assert.equal(await page.locator(".user-code").innerText(), device.user_code);
    await page.getByRole("button", { name: "Allow" }).click();
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Device connected");
    assert.equal(await page.title(), "Device connected · Postern");
  });
  const token = await fetch(`${fixture.server.url}/auth/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: DEVICE_GRANT,
      device_code: device.device_code,
      client_id: client.clientId,
    }),
  });
  const tokens = await token.json();
  assert.equal(token.status, 200, JSON.stringify(tokens));
  assert.ok(tokens.access_token);
  assert.ok(tokens.id_token);
});

test("the sign-in, consent and device pages fit a 375 px wide phone without scrolling sideways", async (fixture) => {
  const phone = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true };
  const scrollWidth = (page: Page) => page.evaluate<number>("document.documentElement.scrollWidth");
  await inPage(fixture, phone, async (page) => {
    await page.goto(authorizationRequest(fixture, fixture.consenting, { prompt: "consent" }).url);
    assert.equal(await page.title(), "Sign in · Postern");
    assert.ok(await scrollWidth(page) <= 375, `sign-in page is ${await scrollWidth(page)} px wide`);
    await signIn(page);
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Allow access?");
    assert.ok(await scrollWidth(page) <= 375, `consent page is ${await scrollWidth(page)} px wide`);
    await page.goto(`${fixture.server.url}/auth/device`);
    assert.ok(await scrollWidth(page) <= 375, `device page is ${await scrollWidth(page)} px wide`);
  });
});

test("confirming a client's sign-out request ends the session and returns to its post_logout_redirect_uri with the state", async (fixture) => {
  const client = fixture.signingOut;
  await inPage(fixture, {}, async (page) => {
    await page.goto(authorizationRequest(fixture, client).url);
    await signIn(page);
    assert.ok((await callbackQuery(fixture, page, client)).get("code"), "signed in");

    // RP-initiated logout without id_token_hint: the person confirms on a page.
    const state = crypto.randomUUID();
    const logout = new URL(`${fixture.server.url}/auth/logout`);
    logout.search = new URLSearchParams({
      client_id: client.clientId,
      post_logout_redirect_uri: fixture.signedOutUri,
      state,
    }).toString();
    await page.goto(logout.href);
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Sign out of Postern?");
    await page.getByRole("button", { name: "Sign out" }).click();

    const path = new URL(fixture.signedOutUri).pathname;
    await page.waitForURL((url) => url.pathname === path);
    assert.equal(await page.locator("body").innerText(), "done");
    const query = fixture.callbacks.lastQuery(path);
    assert.ok(query, `the client's listener received no request at ${path}`);
    assert.equal(query.get("state"), state);

    // Signed out for real: a silent authorization now needs a sign-in.
    await page.goto(authorizationRequest(fixture, client, { prompt: "none" }).url);
    assert.equal((await callbackQuery(fixture, page, client)).get("error"), "login_required");
  });
});
