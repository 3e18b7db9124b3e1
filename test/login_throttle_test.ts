/**
 * Login throttling as an attacker meets it: one throttle per account whatever form of its name is
 * typed, only guesses counted against a client address, the owner's known clients not locked out by
 * someone else's failures, and device user codes throttled like passwords.
 */
import assert from "node:assert/strict";
import { basic, PASSWORD, startServerProcess, startTestApp, type TestApp, until } from "./helpers.ts";
import { adminCallAt, createUser, withApp } from "./jmap_helpers.ts";
import { readForm, registerClient, TestBrowser } from "./oauth_helpers.ts";
import { authorizationRequest, ISSUER } from "./oauth_security_helpers.ts";

/** Two free failures, then a minute's wait: long enough that nothing in a test outlives it. */
async function strictThrottle(t: TestApp): Promise<void> {
  await t.services.settings.update("Authentication", {
    failedLoginFreeAttempts: 2,
    failedLoginBaseDelaySeconds: 60,
  });
}

/** The status of GET /api/account with these credentials from `client`. */
async function status(t: TestApp, authorization: string, client: string): Promise<number> {
  const response = await t.fetch("/api/account", { headers: { authorization }, client });
  await response.body?.cancel();
  return response.status;
}

Deno.test("padding a login name or changing its case does not escape the account's throttle", () =>
  withApp(async (t) => {
    await createUser(t, "alice");
    await strictThrottle(t);
    // Each guess from its own address, so only the account's throttle can stop them.
    for (let i = 1; i <= 3; i++) {
      assert.equal(await status(t, basic("alice@example.org", `guess ${i}`), `10.0.0.${i}`), 401);
    }
    const variants = [
      " alice@example.org",
      "alice@example.org  ",
      "ALICE@Example.ORG",
      "\u00a0alice@example.org ",
    ];
    for (const [i, login] of variants.entries()) {
      assert.equal(
        await status(t, basic(login, `guess ${i}`), `10.0.1.${i}`),
        429,
        `"${login}" was not throttled`,
      );
    }
  }));

Deno.test("the throttle does not tell whether two names are one account: a bare name answers as an unknown one does", () =>
  withApp(async (t) => {
    await createUser(t, "alice");
    await strictThrottle(t);
    const after = async (blocked: string, other: string, net: string) => {
      for (let i = 1; i <= 3; i++) await status(t, basic(blocked, `guess ${i}`), `${net}.${i}`);
      return [
        await status(t, basic(blocked, "one more"), `${net}.9`),
        await status(t, basic(other, "one more"), `${net}.10`),
      ];
    };
    assert.deepEqual(await after("alice@example.org", "alice", "10.0.2"), [429, 401]);
    assert.deepEqual(await after("ghost@example.org", "ghost", "10.0.3"), [429, 401]);
  }));

Deno.test("expired and revoked tokens and deleted API keys never count against the address; guessed API keys do", () =>
  withApp(async (t) => {
    const user = await createUser(t, "bob");
    await strictThrottle(t);
    const bobId = (await t.services.accounts.idByLogin(user.emailAddress))!;
    const expiring = await t.services.accessKeys.create("ApiKey", bobId, {
      description: "rotated away",
      expiresAt: Date.now() + 1000,
    });
    const client = await registerClient(t.services);
    const oauthClient = (await t.services.oauth.clients.byClientId(client.clientId))!;
    const { tokens } = await t.services.oauth.tokens.issue({
      client: oauthClient,
      accountId: bobId,
      grantType: "authorization_code",
      scopes: ["openid", "urn:ietf:params:jmap:mail"],
      authTime: Date.now(),
      issuer: ISSUER,
      withRefresh: false,
    });
    const accessToken = `Bearer ${tokens.access_token}`;
    assert.equal(await status(t, accessToken, "10.9.0.1"), 200);
    // A key rotation: the old key is deleted while a script behind the address still uses it.
    const rotated = await t.services.accessKeys.create("ApiKey", bobId, { description: "old key" });
    assert.equal(await status(t, `Bearer ${rotated.secret}`, "10.9.0.1"), 200);
    await t.services.accessKeys.delete("ApiKey", rotated.credential.id);
    // A password reset revokes the access token; the API key runs out.
    const changed = await t.services.objects.update("account", user.id, {
      credentials: [{ "@type": "Password", secret: "bob's password after the reset" }],
    }, "system");
    assert.ok(changed);
    await until(
      async () => await status(t, `Bearer ${expiring.secret}`, "10.9.9.9") === 401,
      "the API key to expire",
    );
    // Clients behind one address retry them many times: 401 each time, never 429.
    for (let i = 0; i < 6; i++) {
      assert.equal(await status(t, `Bearer ${rotated.secret}`, "10.9.0.1"), 401, `deleted key, try ${i}`);
      assert.equal(await status(t, accessToken, "10.9.0.1"), 401, `revoked token, try ${i}`);
      assert.equal(await status(t, `Bearer ${expiring.secret}`, "10.9.0.1"), 401, `expired key, try ${i}`);
    }
    // Everyone else behind that address still gets in.
    assert.equal(
      await status(t, basic(user.emailAddress, "bob's password after the reset"), "10.9.0.1"),
      200,
    );

    // Guessed API keys do count, and end in 429.
    const guess = () => `Bearer pst_${crypto.randomUUID().replaceAll("-", "").slice(0, 32)}`;
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await status(t, guess(), "10.9.0.2"));
    assert.deepEqual(answers, [401, 401, 401, 429]);
    // A valid key is not a guess: it works from that address all the same.
    const fresh = await t.services.accessKeys.create("ApiKey", bobId, { description: "new key" });
    assert.equal(await status(t, `Bearer ${fresh.secret}`, "10.9.0.2"), 200);
    // A password from a blocked address waits like any guess would.
    assert.equal(
      await status(t, basic("BOB@example.org", "bob's password after the reset"), "10.9.0.2"),
      429,
    );
  }));

Deno.test("an attacker's failures from elsewhere do not lock the owner out of an address they used before, even after a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-test-" });
  let t = await startTestApp({ dataDir });
  try {
    const user = await createUser(t, "carol");
    await strictThrottle(t);
    const home = "10.1.0.1";
    assert.equal(await status(t, basic(user.emailAddress, PASSWORD), home), 200);
    const attack = async () => {
      for (let i = 0; i < 4; i++) await status(t, basic(user.emailAddress, `guess ${i}`), "10.66.0.1");
    };
    await attack();
    // A fresh verification (a header not verified before) from the owner's address gets in.
    assert.equal(await status(t, basic("Carol@example.org", PASSWORD), home), 200);
    // A new address still waits: the account stays protected.
    assert.equal(await status(t, basic("CAROL@example.org", PASSWORD), "10.3.0.1"), 429);

    await t.close();
    t = await startTestApp({ dataDir });
    await attack();
    assert.equal(await status(t, basic(" carol@example.org", PASSWORD), home), 200);
    assert.equal(await status(t, basic("carol@Example.org", PASSWORD), "10.3.0.2"), 429);
  } finally {
    await t.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});

/** A browser without JavaScript whose requests come from `client`. */
function browserAt(t: TestApp, client: string, cookies?: Map<string, string>): TestBrowser {
  const browser = new TestBrowser(
    ISSUER,
    ((input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      return t.fetch(url.pathname + url.search, { ...init, redirect: "manual", client });
    }) as typeof fetch,
  );
  for (const [name, value] of cookies ?? []) browser.cookies.set(name, value);
  return browser;
}

/** Opens an authorization request and posts the sign-in form; returns the answer to the post. */
async function signIn(browser: TestBrowser, url: string, username: string, password: string) {
  const page = await browser.request(url);
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 300));
  return await browser.submit(html, { username, password });
}

Deno.test("a browser that signed in before is not held back by an attacker's failures, from a new address too", () =>
  withApp(async (t) => {
    const user = await createUser(t, "dave");
    const client = await registerClient(t.services, { requireConsent: false });
    await strictThrottle(t);
    const laptop = browserAt(t, "10.4.0.1");
    const first = await signIn(laptop, authorizationRequest(client).url, user.emailAddress, PASSWORD);
    assert.equal(first.status, 303, await first.text());
    for (let i = 0; i < 4; i++) await status(t, basic(user.emailAddress, `guess ${i}`), "10.66.0.2");
    // Signed out (no session), on another network: the browser cookie is what the account knows.
    const cookies = new Map(laptop.cookies);
    cookies.delete("postern_session");
    const travelling = browserAt(t, "10.5.0.1", cookies);
    // Another spelling of the name, so the password is verified afresh rather than found in the cache.
    const again = await signIn(travelling, authorizationRequest(client).url, "Dave@example.org", PASSWORD);
    assert.equal(again.status, 303, await again.text());
    assert.ok(new URL(again.headers.get("location")!).searchParams.get("code"));
    // A browser the account never saw waits.
    const stranger = browserAt(t, "10.5.0.2");
    const refused = await signIn(stranger, authorizationRequest(client).url, "DAVE@example.org", PASSWORD);
    assert.equal(refused.status, 429);
    await refused.body?.cancel();
  }));

Deno.test("typing wrong device user codes is throttled per address with a 429 page", () =>
  withApp(async (t) => {
    await strictThrottle(t);
    const typeCode = async (browser: TestBrowser, code: string) => {
      const page = await browser.request("/auth/device");
      const form = readForm(await page.text());
      return await browser.request(form.action, { ...form.fields, user_code: code });
    };
    const guesser = browserAt(t, "10.7.0.1");
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const response = await typeCode(guesser, `BCDF-GHJ${"KLMN"[i]}`);
      answers.push(response.status);
      const html = await response.text();
      if (response.status === 429) assert.match(html, /Too many wrong codes/);
      else assert.match(html, /not valid or has expired/);
    }
    assert.deepEqual(answers, [400, 400, 400, 429]);
    // Someone at another address types their code as usual.
    const other = await typeCode(browserAt(t, "10.7.0.2"), "BCDF-GHJK");
    assert.equal(other.status, 400);
    await other.body?.cancel();
  }));

Deno.test("on a real server behind a proxy, an attacker polling an account blocks none of its owner's fresh logins from home", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "postern-test-" });
  const server = await startServerProcess(dataDir, { POSTERN_TRUSTED_PROXIES: "127.0.0.1" });
  try {
    const created = await adminCallAt(server.url, "x:Account/set", {
      create: {
        u: {
          "@type": "User",
          name: "erin",
          domainId: "b",
          credentials: { "0": { "@type": "Password", secret: PASSWORD } },
        },
      },
    });
    assert.equal(created.notCreated, null, JSON.stringify(created.notCreated));
    const settings = await adminCallAt(server.url, "x:Authentication/set", {
      update: { singleton: { failedLoginFreeAttempts: 2, failedLoginBaseDelaySeconds: 60 } },
    });
    assert.equal(settings.notUpdated, null, JSON.stringify(settings.notUpdated));
    const login = async (name: string, password: string, from: string) => {
      const response = await fetch(`${server.url}/api/account`, {
        headers: { authorization: basic(name, password), "x-forwarded-for": from },
      });
      await response.body?.cancel();
      return response.status;
    };
    const home = "203.0.113.5";
    assert.equal(await login("erin@example.org", PASSWORD, home), 200);
    // The owner's fresh logins (each spelling of the name is a header never verified before),
    // each after a round of the attacker's guesses from elsewhere.
    const spellings = [
      "Erin@example.org",
      "ERIN@example.org",
      "erin@Example.org",
      " erin@example.org",
      "eRin@example.org ",
    ];
    const answers = [];
    for (const [round, name] of spellings.entries()) {
      for (let i = 0; i < 3; i++) await login("erin@example.org", `guess ${round}.${i}`, "198.51.100.7");
      answers.push(await login(name, PASSWORD, home));
    }
    assert.deepEqual(answers, [200, 200, 200, 200, 200]);
    // The attacker's own address is throttled, and so is the account from anywhere new.
    assert.equal(await login("erin@example.org", "one more guess", "198.51.100.7"), 429);
    assert.equal(await login("erin@EXAMPLE.org", PASSWORD, "192.0.2.1"), 429);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
});
