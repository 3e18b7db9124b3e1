/**
 * The JMAP session resource in a real headless Chromium, as a webmail on another origin (and a page
 * on Postern's own origin) reaches it: a refused bearer token is a 401 the page's script can read,
 * whose challenge is Bearer only, so the browser never asks the person for a user name and password
 * (the founding bug: a Basic challenge on /jmap/session made the browser show its Basic-auth popup).
 */
import assert from "node:assert/strict";
import type { Browser, CDPSession, Page } from "playwright-core";
import { browserTest, launchChromium, type SharedFixture } from "./browser_helpers.ts";
import { basic, type ServerProcess, startServerProcess } from "./helpers.ts";
import { registerClientWithCli } from "./oauth_helpers.ts";

const INVALID_TOKEN = "invalid-token-0123456789abcdef";
/**
 * How long a fetch of the session may take before the test calls it hanging (waiting for a person to
 * answer a sign-in popup): no speed limit, only an end to a hang on a loaded machine.
 */
const FETCH_DEADLINE_MS = 30_000;

/** A second origin standing in for a webmail: its page, and a route that challenges for Basic. */
interface WebmailOrigin {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  close(): Promise<void>;
}

/**
 * The webmail's page: its script fetches Postern's session with the token in the URL's fragment and
 * writes what it could read into `#result` (`#result` says "timeout" when the fetch hung).
 */
function webmailPage(postern: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Webmail</title></head>
<body><pre id="result"></pre>
<script>
(async () => {
  const token = decodeURIComponent(location.hash.slice(1));
  let result;
  try {
    const response = await fetch(${JSON.stringify(postern)} + "/jmap/session", {
      headers: { Authorization: "Bearer " + token },
      signal: AbortSignal.timeout(${FETCH_DEADLINE_MS}),
    });
    const text = await response.text();
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    result = {
      status: response.status,
      wwwAuthenticate: response.headers.get("www-authenticate"),
      contentType: response.headers.get("content-type"),
      body,
    };
  } catch (error) {
    result = { error: error.name + ": " + error.message };
  }
  document.getElementById("result").textContent = JSON.stringify(result);
})();
</script></body></html>`;
}

/** Serves the webmail's page on a free loopback port; Postern's URL is known only after it starts. */
function startWebmailOrigin(postern: () => string): WebmailOrigin {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/basic-challenge") {
      return new Response("sign in", {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="control"', "content-type": "text/plain" },
      });
    }
    if (pathname !== "/") return new Response("not found", { status: 404 });
    return new Response(webmailPage(postern()), { headers: { "content-type": "text/html; charset=utf-8" } });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await server.shutdown();
    },
  };
}

/** One Postern (CORS allowing the webmail's origin), the webmail's origin and one browser. */
interface Fixture extends SharedFixture {
  server: ServerProcess;
  webmail: WebmailOrigin;
  browser: Browser;
  dataDir: string;
}

async function openFixture(): Promise<Fixture> {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-session-browser-" });
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  const webmail = startWebmailOrigin(() => server!.url);
  const close = async () => {
    await browser?.close();
    await server?.stop();
    await webmail.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  };
  try {
    server = await startServerProcess(dataDir, { POSTERN_CORS_ORIGINS: webmail.origin });
    browser = await launchChromium();
    const started = server;
    return {
      server,
      webmail,
      browser,
      dataDir,
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

/**
 * What the browser would have asked the person: JavaScript dialogs, and HTTP authentication
 * challenges (Chromium's Basic popup), seen through the DevTools protocol and cancelled there, as a
 * person closing the popup would.
 */
interface Prompts {
  dialogs: string[];
  authChallenges: string[];
}

async function watchPrompts(page: Page): Promise<Prompts> {
  const prompts: Prompts = { dialogs: [], authChallenges: [] };
  page.on("dialog", (dialog) => {
    prompts.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  const cdp: CDPSession = await page.context().newCDPSession(page);
  cdp.on("Fetch.authRequired", (event) => {
    prompts.authChallenges.push(`${event.authChallenge.scheme} challenge from ${event.request.url}`);
    // The page may close before the answer arrives (end of the test): nothing is left to continue.
    cdp.send("Fetch.continueWithAuth", {
      requestId: event.requestId,
      authChallengeResponse: { response: "CancelAuth" },
    }).catch(() => {});
  });
  // Without patterns every request pauses here; let each go on unchanged.
  cdp.on("Fetch.requestPaused", (event) => {
    cdp.send("Fetch.continueRequest", { requestId: event.requestId }).catch(() => {});
  });
  await cdp.send("Fetch.enable", { handleAuthRequests: true });
  return prompts;
}

/** A fresh context without HTTP credentials, and a page whose prompts are watched. */
async function inPage(
  fixture: Fixture,
  fn: (page: Page, prompts: Prompts) => Promise<void>,
): Promise<void> {
  const context = await fixture.browser.newContext();
  try {
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const prompts = await watchPrompts(page);
    await fn(page, prompts);
    assert.deepEqual(prompts.dialogs, [], "the page opened a dialog");
    assert.deepEqual(prompts.authChallenges, [], "the browser was asked to prompt for HTTP credentials");
  } finally {
    await context.close();
  }
}

/** What the webmail page's script could read of the session response. */
interface SessionFetch {
  status?: number;
  wwwAuthenticate?: string | null;
  contentType?: string | null;
  body?: unknown;
  error?: string;
}

/** Opens the webmail page with a token and waits for its script's fetch of the session. */
async function webmailFetch(fixture: Fixture, page: Page, token: string): Promise<SessionFetch> {
  await page.goto(`${fixture.webmail.origin}/#${encodeURIComponent(token)}`);
  const result = page.locator("#result");
  await result.filter({ hasText: /\S/ }).waitFor({ timeout: FETCH_DEADLINE_MS + 3_000 });
  const read: SessionFetch = JSON.parse(await result.innerText());
  assert.equal(read.error, undefined, `the page's fetch failed: ${read.error}`);
  return read;
}

/** Checks a challenge is RFC 6750's invalid_token, and offers no Basic sign-in a browser would prompt for. */
function assertBearerOnly(challenge: string | null | undefined): void {
  assert.ok(challenge, "no WWW-Authenticate on the 401");
  assert.match(challenge, /^Bearer\b/);
  assert.match(challenge, /error="invalid_token"/);
  assert.doesNotMatch(challenge, /\bBasic\b/i);
}

/** An access token of the admin's account from the client credentials grant. */
async function accessToken(fixture: Fixture): Promise<string> {
  const client = await registerClientWithCli(fixture.dataDir, {
    grantTypes: ["client_credentials"],
    ownerId: "b",
    scopes: ["urn:ietf:params:jmap:mail"],
  });
  const response = await fetch(`${fixture.server.url}/auth/token`, {
    method: "POST",
    headers: { authorization: basic(client.clientId, client.secret!) },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });
  const tokens = await response.json();
  assert.equal(response.status, 200, JSON.stringify(tokens));
  assert.equal(tokens.token_type, "Bearer");
  assert.ok(tokens.access_token);
  return tokens.access_token;
}

test("the watch on prompts sees a Basic challenge the browser would show a popup for", async (fixture) => {
  // The control: without it, the "no prompt" checks below could pass because the watch is blind.
  const context = await fixture.browser.newContext();
  try {
    const page = await context.newPage();
    const prompts = await watchPrompts(page);
    await page.goto(`${fixture.webmail.origin}/basic-challenge`);
    assert.deepEqual(prompts.authChallenges, [
      `basic challenge from ${fixture.webmail.origin}/basic-challenge`,
    ]);
  } finally {
    await context.close();
  }
});

test("a webmail on another origin sending a refused bearer token reads a Bearer-only 401, with no prompt", async (fixture) => {
  await inPage(fixture, async (page) => {
    const seen: Record<string, string>[] = [];
    page.on("response", (response) => {
      if (response.url() === `${fixture.server.url}/jmap/session`) seen.push(response.headers());
    });
    const read = await webmailFetch(fixture, page, INVALID_TOKEN);
    assert.equal(read.status, 401, JSON.stringify(read));
    assertBearerOnly(read.wwwAuthenticate);
    assert.equal(read.contentType, "application/problem+json");
    assert.equal((read.body as { status?: number }).status, 401);
    // The browser's own view of the response: it allowed the webmail's origin to read it.
    assert.equal(seen.length, 1, JSON.stringify(seen));
    assert.equal(seen[0]["access-control-allow-origin"], fixture.webmail.origin);
    assert.match(seen[0]["access-control-expose-headers"], /www-authenticate/);
  });
});

test("a script on Postern's own origin sending a refused bearer token gets a 401 and no prompt", async (fixture) => {
  // Same-origin is where a browser does prompt on a Basic challenge (the founding bug's WebUI).
  await inPage(fixture, async (page, prompts) => {
    await page.goto(`${fixture.server.url}/.well-known/openid-configuration`);
    const read = await page.evaluate<{ status: number; challenge: string | null }>(`
      (async () => {
        const response = await fetch("/jmap/session", {
          headers: { Authorization: "Bearer ${INVALID_TOKEN}" },
          signal: AbortSignal.timeout(${FETCH_DEADLINE_MS}),
        });
        await response.text();
        return {
          status: response.status,
          challenge: response.headers.get("www-authenticate"),
        };
      })()
    `);
    assert.equal(read.status, 401);
    assertBearerOnly(read.challenge);
    assert.deepEqual(prompts.authChallenges, []);
  });
});

test("opening /jmap/session with a refused bearer token shows the 401's body and asks for nothing", async (fixture) => {
  await inPage(fixture, async (page) => {
    await page.context().setExtraHTTPHeaders({ Authorization: `Bearer ${INVALID_TOKEN}` });
    const response = await page.goto(`${fixture.server.url}/jmap/session`);
    assert.ok(response, "the navigation had no response");
    assert.equal(response.status(), 401);
    assertBearerOnly(response.headers()["www-authenticate"]);
    assert.equal(page.url(), `${fixture.server.url}/jmap/session`);
    const shown = await page.locator("body").innerText();
    assert.match(shown, /"status":\s*401/);
    assert.match(shown, /The access token is invalid or expired/);
  });
});

test("a webmail on another origin with a valid access token reads the session", async (fixture) => {
  const token = await accessToken(fixture);
  await inPage(fixture, async (page) => {
    const read = await webmailFetch(fixture, page, token);
    assert.equal(read.status, 200, JSON.stringify(read));
    assert.equal(read.wwwAuthenticate, null);
    assert.match(read.contentType ?? "", /^application\/json/);
    const session = read.body as {
      username: string;
      apiUrl: string;
      capabilities: Record<string, unknown>;
      primaryAccounts: Record<string, string>;
      accounts: Record<string, { name: string; isPersonal: boolean }>;
    };
    assert.equal(session.username, "admin@example.org");
    assert.equal(session.apiUrl, `${fixture.server.url}/jmap/`);
    assert.ok("urn:ietf:params:jmap:core" in session.capabilities, JSON.stringify(session.capabilities));
    assert.equal(session.primaryAccounts["urn:ietf:params:jmap:mail"], "b");
    assert.equal(session.accounts.b?.name, "admin@example.org");
    assert.equal(session.accounts.b?.isPersonal, true);
  });
});
