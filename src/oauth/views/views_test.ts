import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  consentPage,
  deviceCodePage,
  deviceConfirmPage,
  escapeHtml,
  loginPage,
  logoutPage,
  messagePage,
  STYLE_HASH,
} from "./mod.ts";

const HOSTILE = `"><script>alert('x')</script>&`;
const ESCAPED = "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;";
const scopes = [{ name: HOSTILE, description: HOSTILE }];

/** Every page, rendered with a hostile value in each field it interpolates. */
const hostilePages: Record<string, string> = {
  login: loginPage({
    action: HOSTILE,
    flow: HOSTILE,
    csrf: HOSTILE,
    clientName: HOSTILE,
    login: HOSTILE,
    error: HOSTILE,
    attemptsLeft: 2,
  }),
  consent: consentPage({
    action: HOSTILE,
    flow: HOSTILE,
    csrf: HOSTILE,
    clientName: HOSTILE,
    account: HOSTILE,
    scopes,
    returnTo: HOSTILE,
    unverified: true,
  }),
  deviceCode: deviceCodePage({
    action: HOSTILE,
    csrf: HOSTILE,
    flow: HOSTILE,
    userCode: HOSTILE,
    error: HOSTILE,
  }),
  deviceConfirm: deviceConfirmPage({
    action: HOSTILE,
    flow: HOSTILE,
    csrf: HOSTILE,
    clientName: HOSTILE,
    account: HOSTILE,
    userCode: HOSTILE,
    scopes,
    unverified: true,
  }),
  message: messagePage({ title: HOSTILE, message: HOSTILE, status: "error", detail: HOSTILE }),
  logout: logoutPage({ action: HOSTILE, csrf: HOSTILE, flow: HOSTILE, clientName: HOSTILE }),
};

function styleOf(page: string): string {
  const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)];
  assert.equal(styles.length, 1, "one <style> element");
  return styles[0][1];
}

Deno.test("escapeHtml escapes markup and both quotes", () => {
  assert.equal(escapeHtml(HOSTILE), ESCAPED);
});

for (const [name, page] of Object.entries(hostilePages)) {
  Deno.test(`${name} page escapes every hostile value`, () => {
    assert.ok(page.includes(ESCAPED), "the escaped value is shown");
    assert.ok(!page.includes("<script"), "no raw <script");
    assert.ok(!page.includes(`'x')`), "no raw quote from the value");
  });

  Deno.test(`${name} page has no script and no style attribute`, () => {
    assert.doesNotMatch(page, /<script/i);
    assert.doesNotMatch(page, /\sstyle\s*=/i);
    assert.doesNotMatch(page, /\son[a-z]+\s*=/i);
  });

  Deno.test(`${name} page is an English document scaled for phones`, () => {
    assert.match(page, /^<!doctype html>\n<html lang="en">/);
    assert.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(page, /<title>[^<]+ · Postern<\/title>/);
  });

  Deno.test(`${name} page's stylesheet is the one STYLE_HASH admits`, () => {
    const digest = createHash("sha256").update(styleOf(page)).digest("base64");
    assert.equal(STYLE_HASH, `'sha256-${digest}'`);
  });
}

Deno.test("the logout page posts the request's parameters again, escaped, as hidden fields", () => {
  const page = logoutPage({
    action: "/auth/logout",
    csrf: "c1",
    carried: { state: HOSTILE, [HOSTILE]: "v" },
  });
  assert.ok(page.includes(`<input type="hidden" name="state" value="${ESCAPED}">`));
  assert.ok(page.includes(`<input type="hidden" name="${ESCAPED}" value="v">`));
  assert.ok(!page.includes("<script"));
});

Deno.test("every form posts and carries the csrf token and the flow", () => {
  const withFlow = { ...hostilePages };
  delete withFlow.message;
  for (const [name, page] of Object.entries(withFlow)) {
    assert.match(page, /<form method="post" action="/, name);
    assert.ok(page.includes(`<input type="hidden" name="csrf" value="${ESCAPED}">`), `${name} csrf`);
    assert.ok(page.includes(`<input type="hidden" name="flow" value="${ESCAPED}">`), `${name} flow`);
  }
});

Deno.test("device code and logout pages omit the flow input when there is no flow", () => {
  for (
    const page of [
      deviceCodePage({ action: "/device", csrf: "c1" }),
      logoutPage({ action: "/out", csrf: "c1" }),
    ]
  ) {
    assert.ok(page.includes(`<input type="hidden" name="csrf" value="c1">`));
    assert.ok(!page.includes(`name="flow"`));
  }
});

Deno.test("login page names the client and labels its fields for password managers", () => {
  const page = loginPage({ action: "/oauth/login", flow: "f1", csrf: "c1", clientName: "Thunderbird" });
  assert.ok(page.includes(`Sign in to continue to <span class="client">Thunderbird</span>`));
  assert.match(
    page,
    /<label for="username">[^<]+<\/label>\n<input type="text" id="username" name="username"/,
  );
  assert.match(page, /name="username"[^>]* autocomplete="username"[^>]* autofocus/);
  assert.match(page, /<label for="password">Password<\/label>/);
  assert.match(page, /name="password" autocomplete="current-password"/);
  assert.match(page, /<button type="submit">Sign in<\/button>/);
  assert.ok(!page.includes(`role="alert"`), "no error region without an error");
});

Deno.test("login page shows the error and the attempts left, and focuses the password again", () => {
  const page = loginPage({
    action: "/oauth/login",
    flow: "f1",
    csrf: "c1",
    clientName: "Thunderbird",
    login: "bob@example.com",
    error: "Wrong username or password.",
    attemptsLeft: 2,
  });
  assert.match(
    page,
    /<div class="alert" id="login-error" role="alert">\n<p>Wrong username or password.<\/p>/,
  );
  assert.ok(page.includes("2 attempts left before you need to start signing in again from Thunderbird."));
  assert.ok(page.includes(`value="bob@example.com"`));
  assert.match(page, /name="password"[^>]* autofocus/);
  assert.doesNotMatch(page, /name="username"[^>]* autofocus/);
});

Deno.test("login page says when one attempt, or none, is left, and only after a failure", () => {
  const base = { action: "/l", flow: "f", csrf: "c", clientName: "App", error: "Wrong password." };
  assert.ok(loginPage({ ...base, attemptsLeft: 1 }).includes("1 attempt left before"));
  assert.ok(loginPage({ ...base, attemptsLeft: 0 }).includes("No attempts left: start signing in again"));
  const withoutError = loginPage({ action: "/l", flow: "f", csrf: "c", clientName: "App", attemptsLeft: 1 });
  assert.ok(!withoutError.includes("attempt"), "attempts are counted only after a failure");
});

Deno.test("consent and device pages offer Allow and Deny as decisions of one form", () => {
  const scopes = [{ name: "mail:read", description: "Read your mail" }];
  const consent = consentPage({
    action: "/c",
    flow: "f",
    csrf: "c",
    clientName: "App",
    account: "bob@x",
    scopes,
    returnTo: "https://app.example",
  });
  const device = deviceConfirmPage({
    action: "/d",
    flow: "f",
    csrf: "c",
    clientName: "TV",
    account: "bob@x",
    userCode: "WDJB-MJHT",
    scopes,
  });
  assert.match(
    consent,
    /<span class="client">App<\/span> wants to access your account\s+<strong>bob@x<\/strong>/,
  );
  assert.ok(device.includes(`<p class="user-code">WDJB-MJHT</p>`));
  for (const page of [consent, device]) {
    assert.equal(page.match(/<form /g)?.length, 1);
    assert.ok(page.includes(`<button type="submit" name="decision" value="approve">Allow</button>`));
    assert.ok(
      page.includes(`<button type="submit" name="decision" value="deny" class="secondary">Deny</button>`),
    );
    assert.ok(page.includes('<li>Read your mail<span class="scope-name">mail:read</span></li>'));
  }
});

Deno.test("device code page asks for the code as a one-time code in capitals", () => {
  const page = deviceCodePage({ action: "/device", csrf: "c1", error: "That code is not valid." });
  assert.match(page, /<label for="user_code">/);
  assert.match(
    page,
    /name="user_code"[^>]* placeholder="WDJB-MJHT" autocomplete="one-time-code" autocapitalize="characters"/,
  );
  assert.match(page, /role="alert">\n<p>That code is not valid.<\/p>/);
  assert.match(page, /<button type="submit">Continue<\/button>/);
});

Deno.test("logout page offers Sign out and Cancel", () => {
  const page = logoutPage({ action: "/logout", csrf: "c1", clientName: "Webmail" });
  assert.ok(page.includes("Sign out of Postern?"));
  assert.ok(page.includes(`<span class="client">Webmail</span> asked to sign you out.`));
  assert.ok(page.includes(`name="decision" value="logout">Sign out</button>`));
  assert.ok(page.includes(`name="decision" value="cancel" class="secondary">Cancel</button>`));
});

Deno.test("message page shows its title, message, detail and no form", () => {
  const page = messagePage({
    title: "Unknown client",
    message: "The redirect URI is not registered for this client.",
    status: "error",
    detail: "https://evil.example/cb",
  });
  assert.ok(page.includes("<h1>Unknown client</h1>"));
  assert.ok(page.includes("The redirect URI is not registered for this client."));
  assert.ok(page.includes(`<p class="detail">https://evil.example/cb</p>`));
  assert.ok(page.includes(`class="status status-error"`));
  assert.ok(!page.includes("<form"));
});

Deno.test("the consent and device pages of a client that registered itself say it is unverified, and others do not", () => {
  const scopes = [{ name: "openid", description: "Confirm who you are" }];
  const common = { action: "/c", flow: "f", csrf: "c", clientName: "Webmail", account: "bob@x", scopes };
  for (const unverified of [true, false]) {
    const consent = consentPage({ ...common, returnTo: "https://app.example", unverified });
    const device = deviceConfirmPage({ ...common, userCode: "BCDF-GHJK", unverified });
    for (const page of [consent, device]) {
      assert.equal(/Unverified application/.test(page), unverified);
    }
    assert.match(consent, /you are sent to <strong>https:\/\/app\.example<\/strong>/);
  }
});
